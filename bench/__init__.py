"""LoanDesk benchmarks: `make bench` (or `python -m bench`) prints one table."""

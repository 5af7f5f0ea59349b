"""LoanDesk: mobile-first loan customer management."""

__version__ = "0.1.0"

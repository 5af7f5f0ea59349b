"""Accounting: chart of accounts, journal entries, voucher exports (issue #6)."""

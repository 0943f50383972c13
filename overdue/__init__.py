"""overdue: collections for overdue accounts, compliant by construction."""

__version__ = "0.1.0"

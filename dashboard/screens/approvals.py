"""The approvals page: dashboard/views/approvals.py, for the roles dashboard/access.py gives it."""

from dashboard.access import show

show("approvals")

"""The account page: dashboard/views/account.py, for the roles dashboard/access.py gives it."""

from dashboard.access import show

show("account")

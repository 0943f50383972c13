"""The ops inbox: dashboard/views/inbox.py, for the roles dashboard/access.py gives it."""

from dashboard.access import show

show("inbox")

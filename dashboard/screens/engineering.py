"""The engineering page: dashboard/views/engineering.py, for the roles dashboard/access.py gives it."""

from dashboard.access import show

show("engineering")

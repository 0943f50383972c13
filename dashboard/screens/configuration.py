"""The configuration page: dashboard/views/configuration.py, for the roles dashboard/access.py gives it."""

from dashboard.access import show

show("configuration")

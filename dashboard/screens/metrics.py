"""The metrics page: dashboard/views/metrics.py, for the roles dashboard/access.py gives it."""

from dashboard.access import show

show("metrics")

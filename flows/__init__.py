"""Prefect flows: orchestration only. They sequence tasks; the rules live in overdue.domain.

Importing this package sets offline-friendly Prefect defaults (any value already set wins).
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_UI_ENABLED", "false")  # the temporary server needs no UI; `prefect server start` has one

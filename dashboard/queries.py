"""Where the dashboard reads and writes. The inbox's queries are overdue/services/task_queue.py (the command
line lists the same queue)."""

from __future__ import annotations

from overdue.settings import get_settings


def database_url() -> str:
    """The database the dashboard reads and writes: OVERDUE_DATABASE_URL, else the local SQLite file."""
    return get_settings().effective_database_url

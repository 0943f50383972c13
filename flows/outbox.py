"""The outbox through the day: send what has come due inside its contact window, every few minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow

from tasks.cycle_steps import DatabaseUrl, dispatch_outbox


@flow(name="outbox-dispatch")
def outbox_dispatch(database_url: DatabaseUrl = None) -> dict[str, Any]:
    """Every queued message whose time has come passes the contact guard again and goes out, or waits
    for its window, or is refused with the rules named."""
    return dispatch_outbox(database_url, datetime.now(UTC))

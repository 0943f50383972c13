"""Call-backs: an `agent_call` task asks an agent to call the customer, opened for a broken promise to pay
(overdue/services/plans.py), a reply asking for a call (overdue/services/inbound.py) or a call logged with that
request (overdue/services/agent_calls.py). One pending per account, however many times it is asked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from overdue.config.models import Tasks
from overdue.services.auto_tasks import open_once

AGENT_CALL = "agent_call"


def open_call_backs(
    session: Session, tasks: Tasks, payloads: Mapping[int, dict[str, Any]], actor: str, now: datetime
) -> list[int]:
    """An agent calls each account back ({account id: what it is about}); the accounts that got a new task."""
    kind = tasks.kind(AGENT_CALL)
    return open_once(session, AGENT_CALL, kind.role, kind.sla_hours, payloads, actor, now)

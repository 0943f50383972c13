"""Start what a decision set in motion, right after the decision commits.

An approved legal escalation opened its case in the decision's transaction; the case's next step (its demand
letter) starts here, within seconds: `run_deployment` of `legal-case-proceed/on-approval` when a Prefect server
is configured (PREFECT_API_URL; `overdue serve` serves it), else in this process, in a transaction of its own
(an in-process Prefect flow would first start a temporary server, 8-19 s here). A start that fails loses
nothing: the decision is committed, the case has no demand letter yet, and the next daily cycle proceeds with
every such case (`legal.proceed_pending`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from overdue.runtime import get_runtime
from overdue.services import legal
from overdue.services.decisions import decide_task
from overdue.services.tasks import approvers
from overdue.store.db import session_scope
from overdue.store.tables import LegalCase

log = logging.getLogger(__name__)
STARTED, QUEUED, DEFERRED = "started", "queued", "deferred"
LEGAL_PROCEED, ON_APPROVAL = "legal-case-proceed", "on-approval"  # the flow and its deployment (flows/)


@dataclass(frozen=True, slots=True)
class Decided:
    """What a decision did, read before its session closed."""

    task_id: int
    status: str  # approved, rejected, info_requested, or open (a first of two approvals)
    approvals: int
    case_id: int | None
    continuation: str | None  # how the case's next step started, when a case was opened


def decide(
    database_url: str,
    task_id: int,
    version: int,
    decision: str,
    reason: str,
    user: str,
    roles: Collection[str],
    now: datetime,
) -> Decided:
    """A decision in its own transaction, then (once committed) the start of its continuation. Raises
    DecisionError when nothing was recorded."""
    with session_scope(database_url) as session:
        task = decide_task(session, task_id, version, decision, reason, user, now, roles)
        status, approvals = task.status, len(approvers(session, task_id))
        case_id = session.scalar(sa.select(col(LegalCase.id)).where(col(LegalCase.task_id) == task_id))
    started = start_legal_case(database_url, case_id, now) if case_id is not None else None
    return Decided(task_id, status, approvals, case_id, started)


def start_legal_case(database_url: str, case_id: int, now: datetime) -> str:
    """`queued` (the letter is queued, in process), `started` (a Prefect run was created for it) or
    `deferred` (the start failed; the next daily cycle does it). Never raises: the decision stands."""
    try:
        if os.environ.get("PREFECT_API_URL"):
            _run_deployment(case_id)
            return STARTED
        with session_scope(database_url) as session:
            legal.proceed(session, get_runtime(database_url), case_id, now)
        return QUEUED
    except Exception:  # the approval is committed; the daily cycle is the safety net for this step
        log.exception("legal case %s: the continuation did not start; the next daily cycle picks it up", case_id)
        return DEFERRED


def _run_deployment(case_id: int) -> None:
    from prefect.deployments import run_deployment

    run_deployment(f"{LEGAL_PROCEED}/{ON_APPROVAL}", parameters={"case_id": case_id}, timeout=0)

"""What engineers watch (the dashboard's Engineering page): the daily cycles' shards, failed sends, webhook
refusals, queue depths, and recent flow runs read from Prefect's API. Every read is bounded and indexed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.store.tables import CycleShard, HumanTask, OutreachMessage, WebhookError

WAITING = ("queued", "sending")


def _rows(session: Session, query: sa.Select[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(query)]


def cycle_summaries(session: Session, limit: int) -> list[dict[str, Any]]:
    """The latest business dates: shards planned, done, still pending, and the workers that did them."""
    done = sa.func.sum(sa.case((col(CycleShard.status) == "done", 1), else_=0))
    query = (
        sa.select(
            col(CycleShard.as_of),
            sa.func.count().label("shards"),
            done.label("done"),
            sa.func.count(sa.distinct(col(CycleShard.worker))).label("workers"),
            sa.func.min(col(CycleShard.low)).label("low"),
            sa.func.max(col(CycleShard.high)).label("high"),
        )
        .group_by(col(CycleShard.as_of))
        .order_by(col(CycleShard.as_of).desc())
        .limit(limit)
    )
    return [{**row, "pending": row["shards"] - int(row["done"] or 0)} for row in _rows(session, query)]


def failed_sends(session: Session, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """Messages a provider refused, newest first (through the (status, send_at) index)."""
    failed = col(OutreachMessage.status) == "failed"
    total = int(session.scalar(sa.select(sa.func.count()).where(failed)) or 0)
    query = (
        sa.select(
            col(OutreachMessage.id),
            col(OutreachMessage.account_id),
            col(OutreachMessage.channel),
            col(OutreachMessage.provider),
            col(OutreachMessage.send_at),
            col(OutreachMessage.error),
        )
        .where(failed)
        .order_by(col(OutreachMessage.send_at).desc(), col(OutreachMessage.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return total, _rows(session, query)


def webhook_errors(session: Session, *, limit: int) -> list[dict[str, Any]]:
    query = (
        sa.select(
            col(WebhookError.received_at), col(WebhookError.path), col(WebhookError.status), col(WebhookError.detail)
        )
        .order_by(col(WebhookError.received_at).desc(), col(WebhookError.id).desc())
        .limit(limit)
    )
    return _rows(session, query)


def queue_depths(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Messages waiting to go (and how many of them are due already), claimed sends not yet settled, open
    tasks per kind (and past their SLA), shards not done."""
    status = col(OutreachMessage.status)
    due = sa.func.sum(sa.case((col(OutreachMessage.send_at) <= now, 1), else_=0))
    depths = [
        {"queue": f"outbox:{name}", "depth": int(count), "overdue": int(late or 0)}
        for name, count, late in session.execute(
            sa.select(status, sa.func.count(), due).where(status.in_(WAITING)).group_by(status)
        )
    ]
    late = sa.func.sum(sa.case((col(HumanTask.due_at) < now, 1), else_=0))
    depths += [
        {"queue": f"tasks:{kind}", "depth": int(count), "overdue": int(past or 0)}
        for kind, count, past in session.execute(
            sa.select(col(HumanTask.kind), sa.func.count(), late)
            .where(col(HumanTask.status) == "open")
            .group_by(col(HumanTask.kind))
        )
    ]
    pending = session.scalar(sa.select(sa.func.count()).where(col(CycleShard.status) != "done"))
    depths.append({"queue": "cycle:shards", "depth": int(pending or 0), "overdue": 0})
    return sorted(depths, key=lambda row: str(row["queue"]))


# --- Prefect --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowRunView:
    deployment: str
    name: str
    state: str
    started: datetime | None
    link: str | None


class PrefectUnavailable(Exception):
    """No Prefect server configured, or it did not answer in time."""


class PrefectNotConfigured(PrefectUnavailable):
    """PREFECT_API_URL is not set: there is no server to ask."""


def recent_flow_runs(per_deployment: int, timeout_seconds: float = 2.0) -> list[FlowRunView]:
    """The latest runs of every deployment, from the Prefect server at PREFECT_API_URL, with links into its UI.

    Never starts a temporary server (that takes 8-19 s): without PREFECT_API_URL there is nothing to show."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    if not PREFECT_API_URL.value():
        raise PrefectNotConfigured("PREFECT_API_URL is not set")
    ui = (PREFECT_UI_URL.value() or "").rstrip("/")
    try:
        with get_client(sync_client=True, httpx_settings={"timeout": timeout_seconds}) as client:
            deployments = client.read_deployments(limit=50)
            views: list[FlowRunView] = []
            for deployment in deployments:
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                    sort=FlowRunSort.START_TIME_DESC,
                    limit=per_deployment,
                )
                views += [
                    FlowRunView(
                        deployment=deployment.name,
                        name=run.name,
                        state=run.state_name or "",
                        started=run.start_time,
                        link=_link(ui, run.id),
                    )
                    for run in runs
                ]
    except Exception as exc:  # an unreachable server, a timeout, an error answer: all mean "not available now"
        raise PrefectUnavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    return views


def _link(ui: str, run_id: UUID) -> str | None:
    return f"{ui}/runs/flow-run/{run_id}" if ui else None

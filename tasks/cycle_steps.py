"""Cycle steps as Prefect tasks, one shard per call. Parameters stay small and JSON-friendly.

Every step has side effects, so none is ever cached and no result is persisted. The database URL
travels as a SecretStr: in-process calls get the real value, while Prefect's API and UI store only
'**********' (a URL may carry a password). A deployed run passes none and reads OVERDUE_DATABASE_URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr
from sqlmodel import Session

from overdue.runtime import Runtime, get_runtime
from overdue.services import cycle, dispatch, outreach
from overdue.store.bulk import account_shards
from overdue.store.db import session_scope

Shard = tuple[int, int]
DatabaseUrl = SecretStr | None
P = ParamSpec("P")
R = TypeVar("R")


def step(name: str, task_run_name: str | None = None) -> Callable[[Callable[P, R]], Task[P, R]]:
    return task(name=name, task_run_name=task_run_name, cache_policy=NO_CACHE, persist_result=False)


@contextmanager
def unit_of_work(database_url: DatabaseUrl) -> Iterator[tuple[Runtime, Session]]:
    """The wired runtime and one transaction on the step's database."""
    url = database_url.get_secret_value() if database_url else None
    runtime = get_runtime(url)
    with session_scope(runtime.database_url) as session:
        yield runtime, session


@step(name="list-shards")
def list_shards(database_url: DatabaseUrl) -> list[Shard]:
    with unit_of_work(database_url) as (runtime, session):
        return account_shards(session, runtime.settings.shard_size)


@step(name="monitor-plans", task_run_name="monitor-plans-{shard[0]}")
def monitor_plans(database_url: DatabaseUrl, as_of: date, now: datetime, shard: Shard) -> dict[str, int]:
    with unit_of_work(database_url) as (runtime, session):
        return cycle.monitor_plans(session, runtime.config, as_of, now, shard).as_dict()


@step(name="classify-accounts", task_run_name="classify-{shard[0]}")
def classify_accounts(database_url: DatabaseUrl, as_of: date, now: datetime, shard: Shard) -> dict[str, Any]:
    with unit_of_work(database_url) as (runtime, session):
        return cycle.classify_accounts(session, runtime.config, as_of, now, shard).as_dict()


@step(name="make-offers", task_run_name="make-offers-{shard[0]}")
def make_offers(database_url: DatabaseUrl, as_of: date, now: datetime, shard: Shard) -> dict[str, int]:
    with unit_of_work(database_url) as (runtime, session):
        return cycle.make_offers(session, runtime.config, as_of, now, shard).as_dict()


@step(name="propose-escalations", task_run_name="propose-escalations-{shard[0]}")
def propose_escalations(database_url: DatabaseUrl, as_of: date, now: datetime, shard: Shard) -> int:
    with unit_of_work(database_url) as (runtime, session):
        return cycle.propose_escalations(session, runtime.config, as_of, now, shard)


@step(name="queue-outreach", task_run_name="queue-{stage}-{shard[0]}")
def queue_outreach(database_url: DatabaseUrl, stage: str, as_of: date, now: datetime, shard: Shard) -> dict[str, Any]:
    with unit_of_work(database_url) as (rt, session):
        return outreach.plan_outreach(session, rt.config, rt.renderer, rt.sender, stage, as_of, now, shard).as_dict()


@step(name="dispatch-outbox")
def dispatch_outbox(database_url: DatabaseUrl, now: datetime) -> dict[str, int]:
    with unit_of_work(database_url) as (runtime, session):
        return dispatch.dispatch_due(session, runtime.config, runtime.channel, now).as_dict()

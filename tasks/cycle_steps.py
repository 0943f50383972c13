"""Cycle steps as Prefect tasks, one shard per call. Parameters stay small and JSON-friendly.

Every step has side effects, so none is ever cached and no result is persisted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from overdue.runtime import get_runtime
from overdue.services import cycle, outreach
from overdue.store.bulk import account_shards
from overdue.store.db import session_scope

Shard = tuple[int, int]
P = ParamSpec("P")
R = TypeVar("R")


def step(name: str, task_run_name: str | None = None) -> Callable[[Callable[P, R]], Task[P, R]]:
    return task(name=name, task_run_name=task_run_name, cache_policy=NO_CACHE, persist_result=False)


@step(name="list-shards")
def list_shards(database_url: str | None, shard_size: int) -> list[Shard]:
    with session_scope(database_url) as session:
        return account_shards(session, shard_size)


@step(name="monitor-plans", task_run_name="monitor-plans-{shard[0]}")
def monitor_plans(database_url: str | None, as_of: date, now: datetime, shard: Shard) -> dict[str, int]:
    runtime = get_runtime(database_url)
    with session_scope(database_url) as session:
        return cycle.monitor_plans(session, runtime.config, as_of, now, shard).as_dict()


@step(name="classify-accounts", task_run_name="classify-{shard[0]}")
def classify_accounts(database_url: str | None, as_of: date, now: datetime, shard: Shard) -> dict[str, Any]:
    runtime = get_runtime(database_url)
    with session_scope(database_url) as session:
        return cycle.classify_accounts(session, runtime.config, as_of, now, shard).as_dict()


@step(name="make-offers", task_run_name="make-offers-{shard[0]}")
def make_offers(database_url: str | None, as_of: date, now: datetime, shard: Shard) -> dict[str, int]:
    runtime = get_runtime(database_url)
    with session_scope(database_url) as session:
        return cycle.make_offers(session, runtime.config, as_of, now, shard).as_dict()


@step(name="propose-escalations", task_run_name="propose-escalations-{shard[0]}")
def propose_escalations(database_url: str | None, as_of: date, now: datetime, shard: Shard) -> int:
    runtime = get_runtime(database_url)
    with session_scope(database_url) as session:
        return cycle.propose_escalations(session, runtime.config, as_of, now, shard)


@step(name="queue-outreach", task_run_name="queue-{stage}-{shard[0]}")
def queue_outreach(database_url: str | None, stage: str, as_of: date, now: datetime, shard: Shard) -> dict[str, Any]:
    runtime = get_runtime(database_url)
    with session_scope(database_url) as session:
        counts = outreach.plan_outreach(
            session, runtime.config, runtime.renderer, runtime.sender, stage, as_of, now, shard
        )
        return counts.as_dict()


@step(name="dispatch-outbox")
def dispatch_outbox(database_url: str | None, now: datetime) -> dict[str, int]:
    runtime = get_runtime(database_url)
    with session_scope(database_url) as session:
        return outreach.dispatch_due(session, runtime.config, runtime.channel, now).as_dict()

"""The cycle's Prefect tasks: list the shards, work one shard, dispatch the outbox. Parameters stay small
and JSON-friendly.

Every step has side effects, so none is ever cached and no result is persisted. The database URL
travels as a SecretStr: in-process calls get the real value, while Prefect's API and UI store only
'**********' (a URL may carry a password). A deployed run passes none and reads OVERDUE_DATABASE_URL.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr
from sqlmodel import Session

from overdue.runtime import Runtime, get_runtime
from overdue.services import dispatch, rollups, shard_cycle
from overdue.services.imports import ImportResult
from overdue.store.db import session_scope

Shard = tuple[int, int]
DatabaseUrl = SecretStr | None
P = ParamSpec("P")
R = TypeVar("R")


def step(name: str, task_run_name: str | None = None, retries: int = 0) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A cycle step as a Prefect task: never cached, no result persisted. Untagged: a tagged task run asks the
    server for its tags' concurrency slots before it starts (4 to 50 ms each here, for limits nobody set); the
    deployments tag their flow runs, which is where the UI filters."""
    return task(
        name=name,
        task_run_name=task_run_name,
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=retries,
        retry_delay_seconds=10,
    )


def worker_name() -> str:
    """host:pid of the process doing the work, asked at the time: on Dask a task travels pickled by value,
    so a module constant would carry the submitting process's pid to every worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def unit_of_work(database_url: DatabaseUrl) -> Iterator[tuple[Runtime, Session]]:
    """The wired runtime and one transaction on the step's database."""
    url = database_url.get_secret_value() if database_url else None
    runtime = get_runtime(url)
    with session_scope(runtime.database_url) as session:
        yield runtime, session


@step(name="ingest-payments")
def ingest_payments(database_url: DatabaseUrl, now: datetime) -> dict[str, int]:
    """Every payment file in the inbox, each in its own transaction, before anything is planned or sent."""
    from overdue.services.imports import import_payments
    from overdue.services.imports.inbox import ingest_inbox

    runtime = get_runtime(database_url.get_secret_value() if database_url else None)

    def import_file(path: Path) -> ImportResult:
        with session_scope(runtime.database_url) as session:
            return import_payments(session, runtime.config, path, now)

    return ingest_inbox(runtime.settings.payments_inbox, import_file).as_dict()


@step(name="plan-shards")
def plan_shards(database_url: DatabaseUrl, as_of: date) -> list[Shard]:
    with unit_of_work(database_url) as (runtime, session):
        return shard_cycle.plan_shards(session, as_of, runtime.settings.shard_size)


@step(name="cycle-shard", task_run_name="shard-{number}", retries=2)
def cycle_shard(database_url: DatabaseUrl, as_of: date, now: datetime, number: int) -> dict[str, Any] | None:
    """Claims and does the next shard of the date nobody has done; None when none is left (another worker
    did them). Retried on failure: a shard is one transaction and every step is idempotent for the date.
    (Dispatch is not retried: a provider may have accepted a message before the failure, so a person should
    look.)"""
    with unit_of_work(database_url) as (runtime, session):
        done = shard_cycle.run_next_shard(session, runtime, as_of, now, worker_name())
    if done is None:
        return None
    (low, high), result = done
    return result | {"shard": [low, high]}


@step(name="dispatch-outbox")
def dispatch_outbox(database_url: DatabaseUrl, now: datetime) -> dict[str, int]:
    with unit_of_work(database_url) as (runtime, session):
        return dispatch.dispatch_due(session, runtime.config, runtime.channel, now).as_dict()


@step(name="roll-up-metrics")
def roll_up_metrics(database_url: DatabaseUrl, today: date) -> int:
    """The managers' figures for the days that have ended (overdue/services/rollups.py): rows written."""
    with unit_of_work(database_url) as (_, session):
        return rollups.roll_up_ended_days(session, today)

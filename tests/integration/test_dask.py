"""The daily cycle's shards in worker processes, on a local multi-process Dask cluster through prefect-dask's
DaskTaskRunner and in Prefect's process pool, against PostgreSQL: every shard done exactly once, by more than
one worker process, ending as a sequential run ends."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from flows.runners import SharedApiProcessPool, cycle_task_runner
from overdue.services.shard_cycle import plan_shards
from overdue.settings import Settings
from overdue.store.db import session_scope
from overdue.store.tables import AuditEvent, CycleShard
from tests.integration.test_workers import AS_OF, NOW, SHARD_SIZE, portfolio, state, work

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.slow]


def test_the_switch_chooses_the_task_runner() -> None:
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
    from prefect_dask.task_runners import DaskTaskRunner

    assert isinstance(cycle_task_runner(Settings()), ThreadPoolTaskRunner)
    remote = cycle_task_runner(Settings(task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(remote, DaskTaskRunner)
    assert remote.address == "tcp://10.0.0.5:8786"
    local = cycle_task_runner(Settings(task_runner="dask", cycle_workers=3))
    assert isinstance(local, DaskTaskRunner)
    assert local.cluster_kwargs == {"n_workers": 3, "processes": True, "threads_per_worker": 1}
    pool = cycle_task_runner(Settings(task_runner="processes", cycle_workers=2))
    assert isinstance(pool, SharedApiProcessPool)
    assert isinstance(pool, ProcessPoolTaskRunner)
    assert pool._max_workers == 2


@contextmanager
def two_worker_processes(kind: str) -> Iterator[Any]:
    """A task runner with two worker processes: a local Dask cluster, or Prefect's process pool."""
    if kind == "processes":
        yield cycle_task_runner(Settings(task_runner="processes", cycle_workers=2))
        return
    from distributed import LocalCluster
    from prefect_dask.task_runners import DaskTaskRunner

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)  # type: ignore[no-untyped-call]
    with cluster:
        yield DaskTaskRunner(address=cluster.scheduler_address)


@pytest.mark.parametrize("kind", ["dask", "processes"])
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.usefixtures("prefect_harness")
def test_worker_processes_do_every_shard_of_a_cycle_exactly_once(
    kind: str, database_url: str, another_database: Callable[[], str]
) -> None:
    from flows.daily_cycle import daily_cycle

    control = another_database()
    for url in (database_url, control):
        portfolio(url)  # 300 accounts in shards of 25, planned
    work(control, "sequential")

    with two_worker_processes(kind) as runner:
        side_by_side = daily_cycle.with_options(task_runner=runner)
        summary = side_by_side(as_of=AS_OF, now=NOW, database_url=SecretStr(database_url))

    with session_scope(database_url) as session:
        planned = plan_shards(session, AS_OF, SHARD_SIZE)
        rows = session.exec(select(CycleShard).where(CycleShard.as_of == AS_OF)).all()
        moves = Counter(
            session.exec(
                select(AuditEvent.account_id).where(AuditEvent.kind == "stage.changed", col(AuditEvent.ts) == NOW)
            )
        )
    assert summary["shards"] == len(planned) == len(rows) == 12
    assert {row.status for row in rows} == {"done"}
    workers = {row.worker for row in rows}
    assert len(workers) == 2, (workers, os.getpid())  # both worker processes took shards
    assert all(worker and not worker.endswith(f":{os.getpid()}") for worker in workers)  # none ran in the flow's
    assert moves
    assert max(moves.values()) == 1  # no account moved twice
    assert summary["stages"]["evaluated"] == 300
    assert state(database_url) == state(control)  # the same end state as one worker doing it all in turn


def test_process_pool_workers_are_told_the_flows_temporary_server() -> None:
    """Without PREFECT_API_URL each worker would start a temporary server of its own (seconds per worker, and
    several servers writing one database); inside the pool the flow's own server's address is set for them."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert not PREFECT_API_URL.value()
        with SharedApiProcessPool(max_workers=1):
            assert PREFECT_API_URL.value() == SubprocessASGIServer().api_url
        assert not PREFECT_API_URL.value()

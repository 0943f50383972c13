"""Several workers on one cycle, and a worker killed in the middle: every shard is done exactly once, and
a rerun after a crash ends in the same state as a run that never crashed (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlmodel import col, select

from overdue.services.shard_cycle import plan_shards, run_next_shard
from overdue.sim.portfolio import PortfolioSpec, generate_portfolio
from overdue.store.db import session_scope
from overdue.store.tables import Account, AuditEvent, CycleShard, OutreachMessage
from tests.support import make_runtime

START = date(2026, 3, 2)
AS_OF = date(2026, 3, 3)
NOW = datetime(2026, 3, 3, tzinfo=UTC)
SHARD_SIZE = 25


def portfolio(url: str, accounts: int = 300) -> None:
    with session_scope(url) as session:
        generate_portfolio(session, PortfolioSpec(accounts=accounts, seed=5, start=START), make_runtime(url).vault)
        plan_shards(session, AS_OF, SHARD_SIZE)


def work(url: str, worker: str) -> list[tuple[int, int]]:
    """A worker's loop: one transaction per shard until no shard is left."""
    runtime = make_runtime(url)
    done: list[tuple[int, int]] = []
    while True:
        with session_scope(url) as session:
            claimed = run_next_shard(session, runtime, AS_OF, NOW, worker)
        if claimed is None:
            return done
        done.append(claimed[0])


def state(url: str) -> tuple[Counter[str], set[str], Counter[str]]:
    """What a cycle leaves behind: accounts per stage, the outbox's keys, audit events per kind."""
    with session_scope(url) as session:
        stages = Counter(session.exec(select(Account.stage)))
        keys = set(session.exec(select(OutreachMessage.idempotency_key)))
        kinds = Counter(session.exec(select(AuditEvent.kind)))
    return stages, keys, kinds


def test_two_workers_share_a_cycle_and_do_every_shard_exactly_once(database_url: str) -> None:
    portfolio(database_url)
    finished: dict[str, list[tuple[int, int]]] = {}

    def run(name: str) -> None:
        finished[name] = work(database_url, name)

    workers = [threading.Thread(target=run, args=(name,)) for name in ("worker-a", "worker-b")]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=300)
    done = finished["worker-a"] + finished["worker-b"]
    with session_scope(database_url) as session:
        planned = plan_shards(session, AS_OF, SHARD_SIZE)
        rows = session.exec(select(CycleShard).where(CycleShard.as_of == AS_OF)).all()
        changes = Counter(
            session.exec(
                select(AuditEvent.account_id).where(AuditEvent.kind == "stage.changed", col(AuditEvent.ts) == NOW)
            )
        )
    assert sorted(done) == planned  # every shard once, none twice
    assert {r.status for r in rows} == {"done"}
    assert {r.worker for r in rows} <= {"worker-a", "worker-b"}
    assert changes
    assert max(changes.values()) == 1  # no account moved twice


WORKER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, date, datetime
    from overdue.services.shard_cycle import run_next_shard
    from overdue.store.db import session_scope
    from tests.support import make_runtime

    url = sys.argv[1]
    runtime = make_runtime(url)
    while True:
        with session_scope(url) as session:
            if run_next_shard(session, runtime, date(2026, 3, 3), datetime(2026, 3, 3, tzinfo=UTC), "doomed") is None:
                break
    """
)


def test_a_worker_killed_mid_cycle_then_a_rerun_ends_as_if_nothing_happened(
    database_url: str, another_database: Callable[[], str]
) -> None:
    control = another_database()
    for url in (database_url, control):
        portfolio(url)
    work(control, "steady")

    doomed = subprocess.Popen([sys.executable, "-c", WORKER, database_url], env=os.environ | {"PYTHONPATH": "."})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and doomed.poll() is None:
        with session_scope(database_url) as session:
            if (session.scalar(sa.select(sa.func.count()).where(col(CycleShard.status) == "done")) or 0) >= 3:
                break
        time.sleep(0.02)
    os.kill(doomed.pid, signal.SIGKILL)  # kill -9: no cleanup, no rollback but the database's own
    doomed.wait()
    with session_scope(database_url) as session:
        left = session.scalar(sa.select(sa.func.count()).where(col(CycleShard.status) == "pending"))
    assert left, "the worker finished before it could be killed; the test proves nothing"

    work(database_url, "rerun")
    assert state(database_url) == state(control)

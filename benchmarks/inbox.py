"""The ops inbox's queries over a large task backlog on PostgreSQL: N accounts each with one task (8 kinds, a
third decided, a fiftieth assigned to one person, SLAs spread over ±100 hours), built with set-based SQL in a
fresh database; then the count and a page of each queue a person opens, and one task with its case file.
`python -m benchmarks inbox --tasks 300000`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from benchmarks.machine import describe
from benchmarks.postgres import PG_URL, fresh_postgres
from overdue.services.case_file import case_file
from overdue.services.task_queue import TaskFilter, count_tasks, get_task_row, list_tasks
from overdue.store.db import refresh_statistics, session_scope
from overdue.store.migrate import upgrade

KINDS = (
    ("legal_escalation", "legal"),
    ("inbound_message", "agent"),
    ("vulnerability_review", "supervisor"),
    ("agent_call", "agent"),
    ("complaint", "supervisor"),
    ("hardship_review", "supervisor"),
    ("dispute_review", "supervisor"),
    ("offer_approval", "supervisor"),
)
FILL = [
    "INSERT INTO customer (external_ref, full_name, time_zone, locale, jurisdiction, vulnerability,"
    " workplace_contact_ok, created_at) SELECT 'C-' || g, 'Person ' || g, 'UTC', 'en-US', 'US', '[]', false, now()"
    " FROM generate_series(1, :n) g",
    "INSERT INTO account (external_ref, customer_id, product, currency, principal_minor, interest_minor, fees_minor,"
    " placed_balance_minor, due_date, dpd, stage, broken_plans, strategy_arm, version) SELECT 'A-' || g, g, 'card',"
    " 'USD', 100000, 0, 0, 100000, date '2026-01-01', 120, 'negotiation', 0, 'default', 0"
    " FROM generate_series(1, :n) g",
    "INSERT INTO humantask (kind, account_id, payload, role_needed, requested_by, assignee, due_at, status,"
    " decided_at, version, created_at) SELECT (CAST(:kinds AS text[]))[1 + g % 8], g, '{}',"
    " (CAST(:roles AS text[]))[1 + g % 8], 'system:cycle',"
    " CASE WHEN g % 50 = 0 THEN 'legal.lee' END, now() + ((g % 200) - 100) * interval '1 hour',"
    " CASE WHEN g % 3 = 0 THEN 'approved' ELSE 'open' END, CASE WHEN g % 3 = 0 THEN now() END, 0,"
    " now() - interval '5 days' FROM generate_series(1, :n) g",
]


def bench_inbox(tasks: int, runs: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    legal, supervisor = frozenset({"legal"}), frozenset({"supervisor"})
    queues = {
        "team queue (legal)": TaskFilter(scope="team", user="legal.lee", roles=legal),
        "team queue (supervisor: all)": TaskFilter(scope="team", user="sam", roles=supervisor),
        "my tasks": TaskFilter(scope="mine", user="legal.lee", roles=legal),
        "past SLA (supervisor)": TaskFilter(scope="team", user="sam", roles=supervisor, breached=True),
        "decided (supervisor)": TaskFilter(scope="team", user="sam", roles=supervisor, statuses=("approved",)),
    }
    with fresh_postgres(PG_URL) as url:
        upgrade(url)
        started = time.perf_counter()
        with session_scope(url) as session:
            for statement in FILL:
                params = {"n": tasks, "kinds": [k for k, _ in KINDS], "roles": [r for _, r in KINDS]}
                session.execute(sa.text(statement), params)
            refresh_statistics(session)
        built = time.perf_counter() - started

        def timed(step: Callable[[Session], object]) -> float:
            times = []
            for _ in range(runs):
                with session_scope(url) as session:
                    begun = time.perf_counter()
                    step(session)
                    times.append(time.perf_counter() - begun)
            return round(statistics.median(times) * 1000, 1)

        figures: dict[str, float] = {}
        for name, queue in queues.items():
            figures[f"{name}: count"] = timed(lambda s, q=queue: count_tasks(s, q, now))  # type: ignore[misc]
            figures[f"{name}: page 1"] = timed(lambda s, q=queue: list_tasks(s, q, now, limit=20))  # type: ignore[misc]
        figures["team queue (supervisor: all): page 500"] = timed(
            lambda s: list_tasks(s, queues["team queue (supervisor: all)"], now, limit=20, offset=9980)
        )
        figures["one task with its case file"] = timed(
            lambda s: (get_task_row(s, tasks // 2), case_file(s, tasks // 2))
        )
    return {"tasks": tasks, "build_seconds": round(built, 1), "median_ms": figures, "machine": describe()}

"""What a flow run cost Prefect: the flow runs in its tree (itself and every subflow, at any depth) and the
task runs they hold, read back from the Prefect API.

Walking the tree from the run's id counts exactly that run's work, whatever shape the flow has today and
whatever else the same server records meanwhile. Task runs reach the API's database through an event
pipeline (this process's events worker, then the server's task-run recorder, which writes in batches at least
every `flush_interval` seconds), so they arrive after the flow returns: the events are flushed first, then the
count is read until it has not moved for two flush intervals and every task run it holds has a final state.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import TaskRun
from prefect.events.worker import EventsWorker
from prefect.settings import get_current_settings

PAGE = 200  # the API's default and maximum page size
T = TypeVar("T")


@dataclass
class RunCounts:
    flow_runs: int
    task_runs: int
    by_task: dict[str, int] = field(default_factory=dict)
    settled: bool = True  # False: the count was still moving, or some task run had no final state, at the deadline


def _pages(read: Callable[..., list[T]], **filters: Any) -> list[T]:
    rows: list[T] = []
    while True:
        page = read(limit=PAGE, offset=len(rows), **filters)
        rows.extend(page)
        if len(page) < PAGE:
            return rows


def _tree(client: SyncPrefectClient, root: UUID) -> list[UUID]:
    ids, frontier = [root], [root]
    while frontier:
        children = _pages(
            client.read_flow_runs,
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier)),
        )
        frontier = [child.id for child in children]
        ids += frontier
    return ids


def _task_runs(client: SyncPrefectClient, flow_runs: list[UUID]) -> list[TaskRun]:
    return _pages(client.read_task_runs, flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=flow_runs)))


def count_runs(root: UUID, deadline_s: float = 120.0) -> RunCounts:
    """The flow runs and task runs of the tree under `root`, once settled (see above), or at `deadline_s`
    (then `settled` is False)."""
    EventsWorker.drain_all(timeout=deadline_s, at_exit=False)
    quiet_s = 2 * get_current_settings().server.services.task_run_recorder.flush_interval + 1
    started = time.monotonic()
    with get_client(sync_client=True) as client:
        last: int | None = None
        stable_since = time.monotonic()
        while True:
            flow_runs = _tree(client, root)
            task_runs = _task_runs(client, flow_runs)
            final = all(run.state is not None and run.state.is_final() for run in task_runs)
            now = time.monotonic()
            if len(task_runs) != last:
                last, stable_since = len(task_runs), now
            settled = final and now - stable_since >= quiet_s
            if settled or now - started >= deadline_s:
                by_task = Counter(run.task_key.rsplit("-", 1)[0] for run in task_runs)
                return RunCounts(len(flow_runs), len(task_runs), dict(sorted(by_task.items())), settled)
            time.sleep(0.5)

"""Where a cycle's shards run: one after another in the flow's own process (the default), or spread over a
Dask cluster through prefect-dask's DaskTaskRunner (`OVERDUE_TASK_RUNNER=dask`).

Either way a shard is done exactly once: each `cycle-shard` task run claims the next shard nobody holds
(`FOR UPDATE SKIP LOCKED` on the `cycleshard` row, overdue/services/shard_cycle.py), whichever process it
runs in. On Dask, workers build their own runtime from their environment: a remote cluster's workers need
this project installed and the same `OVERDUE_*` variables (the database URL, the data keys). Use PostgreSQL:
SQLite lets one writer in at a time, so its shards would take turns anyway.
"""

from __future__ import annotations

from typing import Any

from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from overdue.settings import Settings


def cycle_task_runner(settings: Settings) -> TaskRunner[Any]:
    """The daily cycle's task runner, from OVERDUE_TASK_RUNNER, OVERDUE_DASK_ADDRESS and OVERDUE_DASK_WORKERS."""
    if settings.task_runner != "dask":
        return ThreadPoolTaskRunner()
    from prefect_dask.task_runners import DaskTaskRunner  # imports dask.distributed: only when asked for

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    local = {"n_workers": settings.dask_workers, "processes": True, "threads_per_worker": 1}
    return DaskTaskRunner(cluster_kwargs=local)


def runs_on_dask() -> bool:
    """Whether the running flow's task runner is prefect-dask's (configured, or given with `with_options`)."""
    context = FlowRunContext.get()
    return context is not None and type(context.task_runner).__module__.startswith("prefect_dask")

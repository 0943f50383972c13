"""Where a cycle's shards run: one after another in the flow's own process (the default), in a pool of worker
processes on this machine (`OVERDUE_TASK_RUNNER=processes`: Prefect's ProcessPoolTaskRunner, the cores put to
work without a cluster), or spread over a Dask cluster through prefect-dask's DaskTaskRunner
(`OVERDUE_TASK_RUNNER=dask`).

Either way a shard is done exactly once: each `cycle-shard` task run claims the next shard nobody holds
(`FOR UPDATE SKIP LOCKED` on the `cycleshard` row, overdue/services/shard_cycle.py), whichever process it
runs in. On Dask, workers build their own runtime from their environment: a remote cluster's workers need
this project installed and the same `OVERDUE_*` variables (the database URL, the data keys). Use PostgreSQL
for either: SQLite lets one writer in at a time, so its shards would take turns anyway.
"""

from __future__ import annotations

from typing import Any

from prefect.context import FlowRunContext
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from overdue.settings import Settings


def cycle_task_runner(settings: Settings) -> TaskRunner[Any]:
    """The daily cycle's task runner, from OVERDUE_TASK_RUNNER, OVERDUE_CYCLE_WORKERS and OVERDUE_DASK_ADDRESS."""
    if settings.task_runner == "processes":
        return ProcessPoolTaskRunner(max_workers=settings.cycle_workers)
    if settings.task_runner != "dask":
        return ThreadPoolTaskRunner()
    from prefect_dask.task_runners import DaskTaskRunner  # imports dask.distributed: only when asked for

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    local = {"n_workers": settings.cycle_workers, "processes": True, "threads_per_worker": 1}
    return DaskTaskRunner(cluster_kwargs=local)


def runs_concurrently() -> bool:
    """Whether the running flow's task runner runs shards side by side in other processes (processes or Dask,
    configured or given with `with_options`): then all shards are submitted at once. The thread pool, the
    flow's default runner, is not used for shards: the work holds the GIL."""
    context = FlowRunContext.get()
    return context is not None and not isinstance(context.task_runner, ThreadPoolTaskRunner)

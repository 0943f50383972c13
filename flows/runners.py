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

from contextlib import ExitStack
from typing import Any, Self

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from overdue.settings import Settings


class SharedApiProcessPool(ProcessPoolTaskRunner):
    """Prefect's process pool, whose workers report to the flow's own Prefect API. Without PREFECT_API_URL the
    flow runs against a temporary server, and the workers, which get the flow's settings, would each start a
    temporary server of their own: five seconds before a worker's first task, and several servers writing one
    database. Here the workers are told the address of the flow's."""

    def __enter__(self) -> Self:
        self._shared_api: ExitStack | None = None
        if not PREFECT_API_URL.value():
            with get_client(sync_client=True) as client:  # the flow's client: the temporary server is up
                address = str(client.api_url).rstrip("/")
            self._shared_api = ExitStack()
            self._shared_api.enter_context(temporary_settings(updates={PREFECT_API_URL: address}))
        return super().__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            if self._shared_api is not None:
                self._shared_api.close()


def cycle_task_runner(settings: Settings) -> TaskRunner[Any]:
    """The daily cycle's task runner, from OVERDUE_TASK_RUNNER, OVERDUE_CYCLE_WORKERS and OVERDUE_DASK_ADDRESS."""
    if settings.task_runner == "processes":
        return SharedApiProcessPool(max_workers=settings.cycle_workers)
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

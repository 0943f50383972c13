"""`python -m benchmarks.cycle_run {cycle,naive} URL AS_OF OUT [--accounts K]`: one measured piece of the cycle
benchmark, in a process of its own, written as JSON to OUT.

A process of its own, so that the peak memory reported is the cycle's and not the portfolio builder's, and
so that Prefect starts as it would for a scheduled run. Prefect's temporary server (when no PREFECT_API_URL
is set) is started and answering before the clock starts: a real deployment's server is already up. It runs
in a child process, so its memory is not in the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """This process's peak resident set so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prefect_ready() -> None:
    """Start the temporary server (if that is the API in use) and wait until it answers."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        unhealthy = client.api_healthcheck()
    if unhealthy is not None:
        raise RuntimeError(f"the Prefect API is not healthy: {unhealthy}")


def measure_cycle(url: str, as_of: date, now: datetime) -> dict[str, Any]:
    from pydantic import SecretStr

    from benchmarks.prefect_runs import count_runs
    from flows.daily_cycle import daily_cycle
    from flows.simulation import in_process_flows

    baseline = peak_rss_mb()
    with in_process_flows():
        started = time.perf_counter()
        state = daily_cycle(as_of=as_of, now=now, database_url=SecretStr(url), return_state=True)
        wall = time.perf_counter() - started
    peak = peak_rss_mb()
    summary = state.result()  # raises what the cycle raised
    root = state.state_details.flow_run_id
    if root is None:
        raise RuntimeError("the cycle's state carries no flow run id: cannot count its task runs")
    counts = count_runs(root)
    return {
        "wall_s": wall,
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
        "prefect_task_runs": counts.task_runs,
        "prefect_flow_runs": counts.flow_runs,
        "prefect_task_runs_by_task": counts.by_task,
        "prefect_counts_settled": counts.settled,
        "summary": summary,
    }


def measure_naive(url: str, as_of: date, now: datetime, accounts: int) -> dict[str, Any]:
    from benchmarks.naive import run_naive, spread_accounts

    return run_naive(url, as_of, now, spread_accounts(url, accounts))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cycle_run", description=__doc__)
    parser.add_argument("measure", choices=["cycle", "naive"])
    parser.add_argument("database_url")
    parser.add_argument("as_of", type=date.fromisoformat)
    parser.add_argument("out", type=Path)
    parser.add_argument("--accounts", type=int, default=20, help="naive: flow runs, one per account")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    import flows  # noqa: F401  (offline Prefect defaults, before Prefect loads)

    prefect_ready()
    now = datetime.combine(args.as_of, datetime.min.time(), tzinfo=UTC)
    if args.measure == "cycle":
        result = measure_cycle(args.database_url, args.as_of, now)
    else:
        result = measure_naive(args.database_url, args.as_of, now, args.accounts)
    args.out.write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()

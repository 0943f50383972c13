"""Benchmarks with one command. `demo`: the `make demo` job end to end (target: at most 5 minutes).
`email` and `sms`: the outbox dispatched to the provider mocks (see benchmarks/outreach.py and
`python -m benchmarks email --help`).

Prints the wall time of each run, the median over runs, and the median time per simulated day,
with the machine they ran on. Each run uses a fresh SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.machine import describe


def bench_demo(accounts: int, days: int, runs: int) -> dict[str, object]:
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    from flows.simulation import run_simulation
    from overdue.runtime import build_runtime
    from overdue.settings import Settings
    from overdue.store.migrate import upgrade

    totals, per_day = [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            runtime = build_runtime(Settings(database_url=url), url)
            stamps: list[float] = []

            def stamp(_: date, stamps: list[float] = stamps) -> None:
                stamps.append(time.perf_counter())

            started = time.perf_counter()
            upgrade(url)
            run_simulation(
                runtime,
                accounts,
                days,
                seed=7,
                start=date(2026, 1, 5),
                on_day=stamp,
            )
            total = time.perf_counter() - started
            days_taken = [b - a for a, b in itertools.pairwise(stamps)]
            totals.append(total)
            per_day.append(statistics.median(days_taken))
            print(
                f"run {run + 1}: {total:.1f} s total, first day done after {stamps[0] - started:.1f} s, "
                f"median day {per_day[-1]:.2f} s"
            )
    return {
        "benchmark": "demo",
        "accounts": accounts,
        "days": days,
        "runs": runs,
        "median_total_s": round(statistics.median(totals), 1),
        "median_day_s": round(statistics.median(per_day), 2),
        "machine": describe(),
    }


def main() -> None:
    if sys.argv[1:2] in (["email"], ["sms"]):  # their options are defined in benchmarks/outreach.py
        from benchmarks.outreach import main as outreach_main

        outreach_main(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("benchmark", choices=["demo"], nargs="?", default="demo")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = bench_demo(args.accounts, args.days, args.runs)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""`overdue simulate --accounts 10000 --days 180` against its target of 3 minutes (issue 3).

Each run is the command's own work (flows/simulation.py: portfolio, then every day the daily-cycle flow,
seven dispatch ticks and the simulated customers and staff) on a fresh SQLite database in a temporary
folder, the command's default. Prints each run's wall time, the CPU time of this process (on a shared
machine the gap is time spent waiting for a core, or in Prefect's server process) and the time per phase,
then the median over runs and the machine.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.machine import describe

TARGET_S = 180.0


def bench_simulate(accounts: int, days: int, runs: int, seed: int = 7) -> dict[str, Any]:
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    from flows.simulation import run_simulation
    from overdue.runtime import build_runtime
    from overdue.settings import Settings
    from overdue.store.migrate import upgrade

    walls: list[float] = []
    cpus: list[float] = []
    phases: list[dict[str, float]] = []
    cpu_phases: list[dict[str, float]] = []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'simulate.db'}"
            runtime = build_runtime(Settings(database_url=url), url)
            started, cpu_started = time.perf_counter(), time.process_time()
            upgrade(url)
            result = run_simulation(runtime, accounts, days, seed=seed, start=date(2026, 1, 5))
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu_started)
            phases.append(result.seconds)
            cpu_phases.append(result.cpu_seconds)
            split = ", ".join(
                f"{name} {wall:.1f} s ({result.cpu_seconds[name]:.1f} s CPU)" for name, wall in result.seconds.items()
            )
            print(f"run {run + 1}: {walls[-1]:.1f} s wall, {cpus[-1]:.1f} s CPU ({split})", flush=True)
    median = statistics.median(walls)
    return {
        "benchmark": "simulate",
        "accounts": accounts,
        "days": days,
        "runs": runs,
        "median_wall_s": round(median, 1),
        "median_cpu_s": round(statistics.median(cpus), 1),
        "median_phase_s": _median_per_phase(phases),
        "median_phase_cpu_s": _median_per_phase(cpu_phases),
        "target_s": TARGET_S,
        "within_target": median <= TARGET_S,
        "load_average": [round(load, 1) for load in os.getloadavg()],
        "machine": describe(),
    }


def _median_per_phase(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(statistics.median(run.get(name, 0.0) for run in runs), 1) for name in runs[0]}

"""`cycle`: one daily cycle over a portfolio of N accounts, timed end to end through Prefect, against the
issue-3 targets, a set-based SQL floor and the naive one-flow-run-per-account design, all in one invocation.

Each run copies the portfolio's template three times (see benchmarks/portfolios.py): the real `daily-cycle`
flow runs on the first, in a process of its own (benchmarks/cycle_run.py); the hand-written set-based floor
on the second; the cycle's classification step alone on the third (benchmarks/classification.py). The three
must leave the same stages behind, or the ratios compare different work and the result says so. The naive
design runs once per invocation on a fourth copy, over a few accounts spread across the portfolio.

The business date is the day after the portfolio's start: the portfolio is as imported (every account
`current`, due dates from 45 days before the start to 20 after), so this cycle is its first and moves about
three accounts in four to their stage. That is heavier than a steady-state day; the result reports how many
moved.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url

from benchmarks.classification import run_classification, run_floor, stage_state
from benchmarks.machine import describe
from benchmarks.portfolios import Portfolio, TemplateStore, data_keys, ensure_template, templates_for
from overdue.config import load_configuration
from overdue.settings import PROJECT_ROOT, get_settings

START = date(2026, 11, 16)  # the portfolio's start (a Monday); the measured cycle follows the warm-up days
ROLES = ("cycle", "floor", "classify")
SCALE = 1_000_000
SECONDS_AT_SCALE = {"postgresql": 60, "sqlite": 120}  # issue 3: a million accounts per cycle in at most this


@dataclass(frozen=True)
class CycleOptions:
    accounts: int = 100_000
    database_url: str | None = None  # None: SQLite files in the data folder's bench/
    seed: int = 7
    runs: int = 1
    warmup_days: int = 0  # cycles run into the template first: 0 measures the portfolio's first, heaviest day
    naive_accounts: int = 20
    keep: bool = False
    rebuild: bool = False
    template_prefix: str = "overdue_bench"


def bench_cycle(options: CycleOptions, console: Console) -> dict[str, Any]:
    """Measure, print progress on `console`, return the figures (see README, "Benchmarks")."""
    commit = revision()  # now: the tree may change while a long benchmark runs
    settings = get_settings()
    folder = settings.data_dir / "bench"
    url = options.database_url or f"sqlite:///{folder / 'bench.db'}"
    store = templates_for(url, options.template_prefix)
    keys = data_keys(folder)
    portfolio = Portfolio(options.accounts, options.seed, START, options.warmup_days)
    as_of = portfolio.as_of
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)  # the daily cycle runs at midnight UTC
    build_s = _build(store, portfolio, keys, options.rebuild, console)
    config = load_configuration(settings.config_dir, settings.strategy)
    env = _child_environment(keys, folder)
    runs: list[dict[str, Any]] = []
    kept: list[str] = []
    for run in range(1, options.runs + 1):
        with _copies(store, portfolio, ROLES, options.keep, kept, console) as urls:
            console.log(f"run {run}/{options.runs}: the daily cycle through Prefect ({options.accounts:,} accounts)")
            load = os.getloadavg()[0]  # the machine is shared: how busy it was as the cycle started
            cycle = _child("cycle", urls["cycle"], as_of, env)
            console.log(f"run {run}/{options.runs}: cycle {cycle['wall_s']:.2f} s; the set-based floor")
            floor_s = run_floor(urls["floor"], config, as_of, now)
            console.log(f"run {run}/{options.runs}: floor {floor_s:.2f} s; classify_accounts alone")
            classify_s = run_classification(urls["classify"], keys, as_of, now)
            console.log(f"run {run}/{options.runs}: classification {classify_s:.2f} s")
            states = {role: stage_state(urls[role], as_of) for role in ROLES}
        runs.append({**cycle, "floor_s": floor_s, "classify_s": classify_s, "states": states, "load_1m": load})
    with _copies(store, portfolio, ("naive",), options.keep, kept, console) as urls:
        console.log(f"naive design: {options.naive_accounts} flow runs, one per account")
        naive = _child("naive", urls["naive"], as_of, env, "--accounts", str(options.naive_accounts))
    result = summarise(options, store.database, runs, naive, as_of)
    result["commit"] = commit
    result["template"] = {"built_now": build_s is not None, "build_s": _round(build_s)}
    result["kept"] = kept
    result["prefect_api"] = env.get("PREFECT_API_URL") or f"temporary local server, PREFECT_HOME={env['PREFECT_HOME']}"
    return result


def summarise(
    options: CycleOptions, database: str, runs: list[dict[str, Any]], naive: dict[str, Any], as_of: date
) -> dict[str, Any]:
    """Medians over runs (peak memory: the largest), ratios of medians, and each target read against them."""

    def median(key: str) -> float:
        return float(statistics.median(run[key] for run in runs))

    wall_s, floor_s, classify_s = median("wall_s"), median("floor_s"), median("classify_s")
    first = runs[0]["states"]
    changes = sum(stage["entered_today"] for stage in first["cycle"]["stages"].values())  # the audit holds
    # the warm-up days' changes too
    naive_per_account = naive["total_s"] / naive["accounts"] if naive["accounts"] else float("nan")
    result: dict[str, Any] = {
        "benchmark": "cycle",
        "accounts": options.accounts,
        "database": database,
        "wall_s": _round(wall_s),
        "accounts_per_s": round(options.accounts / wall_s),
        "peak_rss_mb": round(max(run["peak_rss_mb"] for run in runs), 1),
        "baseline_rss_mb": round(max(run["baseline_rss_mb"] for run in runs), 1),
        "prefect_task_runs": max(run["prefect_task_runs"] for run in runs),
        "prefect_flow_runs": max(run["prefect_flow_runs"] for run in runs),
        "prefect_task_runs_by_task": runs[0]["prefect_task_runs_by_task"],
        "prefect_counts_settled": all(run["prefect_counts_settled"] for run in runs),
        "stage_changes": changes,
        "stage_change_share": round(changes / options.accounts, 3),
        "floor_s": _round(floor_s),
        "ratio_to_floor": round(wall_s / floor_s, 1),
        "classify_s": _round(classify_s),
        "classify_ratio_to_floor": round(classify_s / floor_s, 1),
        "floor_matches_cycle": all(run["states"]["floor"] == run["states"]["cycle"] for run in runs),
        "classify_matches_floor": all(run["states"]["classify"] == run["states"]["floor"] for run in runs),
        "naive_accounts": naive["accounts"],
        "naive_s": _round(naive["total_s"]),
        "naive_dispatch_s": _round(naive["dispatch_s"]),
        "naive_s_per_account": _round(naive_per_account),
        "speedup_vs_naive": round(naive_per_account / (wall_s / options.accounts)),
        "seed": options.seed,
        "runs": len(runs),
        "portfolio_start": START.isoformat(),
        "warmup_days": options.warmup_days,
        "as_of": as_of.isoformat(),
        "shard_size": get_settings().shard_size,
        "stages_after": {stage: row["accounts"] for stage, row in first["cycle"]["stages"].items()},
        "per_run": [
            {
                key: _round(run[key])
                for key in ("wall_s", "floor_s", "classify_s", "peak_rss_mb", "prefect_task_runs", "load_1m")
            }
            for run in runs
        ],
        "summary": runs[0]["summary"],
        "machine": describe(),
    }
    result["targets"] = targets(result)
    return result


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Issue 3's targets that one invocation can judge. The growth target (time for 1M / time for 100k at most
    12) needs two invocations and is read in benchmarks/RESULTS.md."""
    kind = result["database"].split()[0]
    rate = SCALE / SECONDS_AT_SCALE[kind]
    checks: list[tuple[str, str, Callable[[float], bool]]] = [
        ("accounts_per_s", f">= {rate:,.0f} (1M in {SECONDS_AT_SCALE[kind]} s)", lambda v: v >= rate),
        ("peak_rss_mb", "<= 1536 (1.5 GiB)", lambda v: v <= 1536),
        ("prefect_task_runs", "<= 200", lambda v: v <= 200),
        ("ratio_to_floor", "<= 3", lambda v: v <= 3),
        ("speedup_vs_naive", ">= 10,000", lambda v: v >= 10_000),
    ]
    return {key: {"target": text, "value": result[key], "met": test(result[key])} for key, text, test in checks}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _build(store: TemplateStore, portfolio: Portfolio, keys: str, rebuild: bool, console: Console) -> float | None:
    """The template, built with a progress bar when it is missing, stale or `rebuild` is asked for."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task(f"portfolio template ({store.database})", total=portfolio.accounts, start=False)

        def advance(accounts: int) -> None:
            progress.start_task(bar)
            progress.update(bar, advance=accounts, description="building the portfolio template")

        build_s = ensure_template(store, portfolio, keys, rebuild=rebuild, on_chunk=advance)
    if build_s is None:
        console.log(f"reusing the template of {portfolio.accounts:,} accounts (seed {portfolio.seed})")
    else:
        console.log(f"built the template of {portfolio.accounts:,} accounts in {build_s:.1f} s")
    return build_s


@contextmanager
def _copies(
    store: TemplateStore, portfolio: Portfolio, roles: tuple[str, ...], keep: bool, kept: list[str], console: Console
) -> Iterator[dict[str, str]]:
    """Fresh copies of the template, one per role, flushed to disk before anything is timed (so no write-back
    of the copy competes with a measurement); dropped afterwards unless kept for inspection."""
    urls: dict[str, str] = {}
    try:
        for role in roles:
            urls[role] = store.copy(portfolio, role)
        os.sync()
        yield urls
    finally:
        for role, url in urls.items():
            if keep:
                kept.append(make_url(url).render_as_string(hide_password=True))
                console.log(f"kept the {role} database: {kept[-1]}")
            else:
                store.discard(url)


def _child_environment(keys: str, folder: Path) -> dict[str, str]:
    """The measured processes get the portfolio's keys; without a Prefect server configured, they share a
    Prefect home under the bench folder, away from the demo's run history."""
    env = {**os.environ, "OVERDUE_DATA_KEYS": keys}
    env.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    if "PREFECT_API_URL" not in env:
        env.setdefault("PREFECT_HOME", str(folder / "prefect-home"))
    return env


def _child(measure: str, url: str, as_of: date, env: dict[str, str], *options: str) -> dict[str, Any]:
    """Run benchmarks/cycle_run.py on the business date and return what it measured."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks.cycle_run", measure, url, as_of.isoformat(), str(out), *options]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not out.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-30:])
            raise RuntimeError(f"{' '.join(command[:4])} failed (exit {done.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def revision() -> str | None:
    """The commit measured, marked `+dirty` when tracked files differ from it (the figures are then of the
    working tree, not of the commit alone)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}+dirty" if status else commit


def print_table(result: dict[str, Any], console: Console) -> None:
    """The figures and the targets, for a person."""
    table = Table(title=f"Daily cycle, {result['accounts']:,} accounts, {result['database']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target")
    marks = {key: ("met" if t["met"] else "NOT met") + f": {t['target']}" for key, t in result["targets"].items()}
    rows = [
        ("cycle wall time (median)", f"{result['wall_s']:.2f} s", ""),
        ("accounts per second", f"{result['accounts_per_s']:,}", marks["accounts_per_s"]),
        ("peak RSS of the cycle process", f"{result['peak_rss_mb']:,.0f} MB", marks["peak_rss_mb"]),
        ("Prefect task runs", f"{result['prefect_task_runs']}", marks["prefect_task_runs"]),
        ("Prefect flow runs", f"{result['prefect_flow_runs']}", ""),
        ("accounts that changed stage", f"{result['stage_changes']:,} ({result['stage_change_share']:.0%})", ""),
        ("set-based SQL floor", f"{result['floor_s']:.2f} s", ""),
        ("cycle / floor", f"{result['ratio_to_floor']}x", marks["ratio_to_floor"]),
        ("classify_accounts alone / floor", f"{result['classify_ratio_to_floor']}x", ""),
        ("naive: seconds per account", f"{result['naive_s_per_account']:.3f} s", ""),
        ("speedup vs naive, per account", f"{result['speedup_vs_naive']:,}x", marks["speedup_vs_naive"]),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    agree = result["floor_matches_cycle"] and result["classify_matches_floor"]
    console.print(
        "Floor, classification and cycle left the same stages behind."
        if agree
        else "[red]The floor, the classification and the cycle left DIFFERENT stages: "
        "the ratios compare different work.[/red]"
    )
    console.print(f"{result['runs']} run(s), commit {result['commit']}, {result['machine']}")

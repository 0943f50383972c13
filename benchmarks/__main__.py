"""Benchmarks with one command. `demo`: the `make demo` job end to end (target: at most 5 minutes).
`guard`: the contact guard's cost per shard on SQLite and PostgreSQL, projected to a million accounts.
`letters`: the cost of one letter as a PDF (it decides whether PDFs can be made in the dry-run path).
`email` and `sms`: the outbox dispatched to the provider mocks (see benchmarks/outreach.py and
`python -m benchmarks email --help`).
`inbox`: the ops inbox's queries over a large task backlog on PostgreSQL (benchmarks/inbox.py).
`cycle`: one daily cycle over N accounts against the issue-3 targets (same as `overdue bench cycle`; see
`python -m benchmarks cycle --help`).
`simulate`: `overdue simulate --accounts 10000 --days 180` against its 3-minute target (benchmarks/simulate.py).
`dashboard`: every dashboard page's server time with a million accounts and ten million audit events on
PostgreSQL (see `python -m benchmarks dashboard --help`).

`demo` prints the wall time of each run, the median over runs, and the median time per simulated day,
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


def bench_letters(letters: int, runs: int) -> dict[str, object]:
    """Lay out `letters` reminder letters per language as PDFs, each to a different customer, `runs` times."""
    from overdue.channels.context import sample_context
    from overdue.channels.letters.pdf import Letter, Letterhead, register_font, render_pdf
    from overdue.channels.templates import TemplateRenderer
    from overdue.runtime import build_sender
    from overdue.services.letters import SAMPLE_ADDRESS, recipient_block
    from overdue.settings import Settings

    settings = Settings()
    sender = build_sender(settings)
    renderer = TemplateRenderer(settings.config_dir / "templates")
    started = time.perf_counter()
    register_font(settings.letter_font)
    font_load = time.perf_counter() - started
    names = {"en-US": ("Maria Garcia", "James Chen", "David Okafor"), "zh-CN": ("张伟", "李娜", "欧阳䶮")}
    result: dict[str, object] = {"benchmark": "letters", "letters": letters, "runs": runs}
    result["font_load_s"] = round(font_load, 2)
    for locale, pool in names.items():
        per_letter, sizes = [], []
        for _ in range(runs):
            begun = time.perf_counter()
            for n in range(letters):
                name = pool[n % len(pool)]
                body = renderer.render(
                    "reminder_letter", "letter", locale, sample_context(sender, locale) | {"customer_name": name}
                ).body
                head = Letterhead(sender.business_name, sender.address, sender.callback_phone)
                recipient = recipient_block(name, SAMPLE_ADDRESS[locale])
                letter = Letter(locale, head, f"****0001-{n}", date(2026, 2, 5), recipient, body)
                sizes.append(len(render_pdf(letter, settings.letter_font)))
            per_letter.append((time.perf_counter() - begun) / letters)
            print(f"{locale} run {len(per_letter)}: {per_letter[-1] * 1000:.1f} ms per letter")
        result[locale] = {
            "median_ms_per_letter": round(statistics.median(per_letter) * 1000, 1),
            "mean_kb_per_letter": round(statistics.mean(sizes) / 1024, 1),
        }
    result["machine"] = describe()
    return result


def build_parser() -> argparse.ArgumentParser:
    """The options of the benchmarks run from here; email, sms, dashboard and cycle define their own."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    benchmarks = ["demo", "guard", "letters", "email", "sms", "cycle", "simulate", "inbox", "dashboard"]
    parser.add_argument("benchmark", choices=benchmarks, nargs="?", default="demo")
    parser.add_argument("--accounts", type=int, help="demo: 2000; guard: 5000 (one shard); simulate: 10000")
    parser.add_argument("--days", type=int, help="demo: 90; simulate: 180")
    parser.add_argument("--tasks", type=int, default=300_000, help="inbox: tasks (one per account)")
    parser.add_argument("--letters", type=int, default=100, help="letters per language (letters benchmark)")
    parser.add_argument("--runs", type=int, help="demo, letters and simulate: 3; guard: 5; inbox: 7")
    return parser


def main() -> None:
    if sys.argv[1:2] in (["email"], ["sms"]):  # their options are defined in benchmarks/outreach.py
        from benchmarks.outreach import main as outreach_main

        outreach_main(sys.argv[1:])
        return
    if sys.argv[1:2] == ["dashboard"]:  # its options are defined in benchmarks/dashboard.py
        from benchmarks.dashboard import main as dashboard_main

        dashboard_main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["cycle"]:  # its options are defined once, on `overdue bench cycle`
        from overdue.cli.bench import bench_app

        bench_app(args=sys.argv[1:], prog_name="python -m benchmarks")
        return
    parser = build_parser()
    args = parser.parse_args()
    if args.benchmark == "cycle":
        parser.error("`cycle` takes its own options after it: python -m benchmarks cycle --help")
    if args.benchmark == "guard":
        from benchmarks.guard import bench_guard

        result = bench_guard(args.accounts or 5000, args.runs or 5)
    elif args.benchmark == "inbox":
        from benchmarks.inbox import bench_inbox

        result = bench_inbox(args.tasks, args.runs or 7)
    elif args.benchmark == "letters":
        result = bench_letters(args.letters, args.runs or 3)
    elif args.benchmark == "simulate":
        from benchmarks.simulate import bench_simulate

        result = bench_simulate(args.accounts or 10_000, args.days or 180, args.runs or 3)
    else:
        result = bench_demo(args.accounts or 2000, args.days or 90, args.runs or 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""`overdue bench ...`: measurements at scale, the same code as `python -m benchmarks` (benchmarks/)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from overdue.cli.common import console

bench_app = typer.Typer(no_args_is_help=True)


@bench_app.callback()
def bench() -> None:
    """Benchmarks at scale; recorded results are in benchmarks/RESULTS.md."""
    # A callback keeps `bench` a group when it holds one command, so `python -m benchmarks cycle` parses as
    # `overdue bench cycle` does.


@bench_app.command("cycle")
def cycle(
    accounts: Annotated[int, typer.Option(min=1, help="Accounts in the portfolio.")] = 100_000,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="PostgreSQL: the server that keeps the template and its copies (databases PREFIX_{N}_s{SEED}...); "
            "SQLite: a file whose folder holds them. Default: SQLite in the data folder's bench/.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same portfolio.")] = 7,
    runs: Annotated[int, typer.Option(min=1, help="Cycles to time; figures are medians.")] = 1,
    warmup_days: Annotated[
        int,
        typer.Option(
            min=0,
            help="Daily cycles run into the template before the measured one. 0 measures the portfolio's first "
            "day, when every account is classified and contacted at once; 2 or more, an ordinary day.",
        ),
    ] = 0,
    naive_accounts: Annotated[
        int, typer.Option(min=1, help="Accounts for the naive design (one Prefect flow run each).")
    ] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="Only JSON on stdout (progress goes to stderr).")] = False,
    keep: Annotated[bool, typer.Option(help="Keep the databases each run used, for inspection.")] = False,
    rebuild: Annotated[bool, typer.Option(help="Build the portfolio template afresh even if one exists.")] = False,
    template_prefix: Annotated[
        str, typer.Option(help="PostgreSQL: name prefix of the template and copies (for a shared server).")
    ] = "overdue_bench",
) -> None:
    """Time one daily cycle over N accounts through Prefect, against a set-based SQL floor and the naive
    one-flow-run-per-account design, and read the result against the issue-3 targets."""
    from benchmarks.cycle import CycleOptions, bench_cycle, print_table

    options = CycleOptions(
        accounts=accounts,
        database_url=database_url,
        seed=seed,
        runs=runs,
        warmup_days=warmup_days,
        naive_accounts=naive_accounts,
        keep=keep,
        rebuild=rebuild,
        template_prefix=template_prefix,
    )
    result = bench_cycle(options, Console(stderr=True, log_path=False))
    if json_output:
        print(json.dumps(result, indent=2))
    else:
        print_table(result, console)

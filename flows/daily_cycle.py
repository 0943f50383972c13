"""The daily cycle: one flow run per business date, one task run per shard, never a run per account."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.runtime import flow_run

from flows.runners import cycle_task_runner, runs_concurrently
from flows.summary import merge_counts
from overdue.settings import get_settings
from tasks.cycle_steps import DatabaseUrl, cycle_shard, dispatch_outbox, ingest_payments, plan_shards, roll_up_metrics


def business_date() -> date:
    """Today in the portfolio's time zone: the date a scheduled run works on."""
    return datetime.now(ZoneInfo(get_settings().portfolio_time_zone)).date()


def run_name() -> str:
    as_of = flow_run.parameters.get("as_of") or business_date()
    return f"cycle-{as_of}"


@flow(name="daily-cycle", flow_run_name=run_name, task_runner=cycle_task_runner(get_settings()))
def daily_cycle(
    as_of: date | None = None, now: datetime | None = None, database_url: DatabaseUrl = None
) -> dict[str, Any]:
    """Each shard does the whole day's work for its accounts (overdue/services/shard_cycle.py), then the
    outbox sends what is due inside contact windows. Several workers may run the same date at once (on
    PostgreSQL): each claims shards nobody holds, and every shard is done exactly once."""
    as_of = as_of or business_date()  # a scheduled run passes no date
    now = now or datetime.combine(as_of, time(), tzinfo=UTC)
    progress = create_progress_artifact(0.0, key="daily-cycle-progress", description=f"Shards done, cycle {as_of}")
    assert isinstance(progress, UUID)  # called from a sync flow, Prefect's sync/async helper returns the id
    summary, results = cycle_day(as_of, now, database_url, progress)
    create_markdown_artifact(
        key="daily-cycle-summary", markdown=summary_markdown(summary), description=f"Cycle {as_of}"
    )
    create_table_artifact(shard_table(results), key="daily-cycle-shards", description=f"Per shard, cycle {as_of}")
    return summary


ShardResults = list[tuple[tuple[int, int], dict[str, Any]]]


def cycle_day(
    as_of: date, now: datetime, database_url: DatabaseUrl, progress: UUID | None = None
) -> tuple[dict[str, Any], ShardResults]:
    """The date's steps as task runs of the calling flow run: this flow's, or a simulation's, which runs its
    days in one flow run (a flow run per simulated day cost ~0.7 s of Prefect's own work each). Returns the
    summary and each shard's result; `progress`, if given, is the artifact the shards move on."""
    payments = ingest_payments(database_url, now)  # reconciliation first: nobody is reminded of what they paid
    rolled_up = roll_up_metrics(database_url, as_of)  # yesterday is over, its late payments included: its figures
    shards = plan_shards(database_url, as_of)
    run_shards = cycle_shards_side_by_side if runs_concurrently() else cycle_shards_in_turn
    results = run_shards(database_url, as_of, now, len(shards), progress)
    summary: dict[str, Any] = {"as_of": as_of.isoformat(), "shards": len(results), "payments": payments}
    summary |= merge_counts(result for _, result in results)
    summary["dispatch"] = dispatch_outbox(database_url, now)
    summary["rollup_rows"] = rolled_up
    return summary, results


def cycle_shards_in_turn(
    database_url: DatabaseUrl, as_of: date, now: datetime, count: int, progress: UUID | None
) -> ShardResults:
    results: ShardResults = []
    for number in range(1, count + 1):
        result = cycle_shard(database_url, as_of, now, number)
        if result is None:
            break  # other workers did (or are doing) the rest of the date
        low, high = result.pop("shard")
        results.append(((low, high), result))
        _advance(progress, number, count)
    return results


def cycle_shards_side_by_side(
    database_url: DatabaseUrl, as_of: date, now: datetime, count: int, progress: UUID | None
) -> ShardResults:
    """One task run per shard, all submitted at once: each claims a shard nobody holds, in whichever worker
    process it lands. Returns them in shard order; a task that found none left (another worker's) adds none."""
    futures = [cycle_shard.submit(database_url, as_of, now, number) for number in range(1, count + 1)]
    results: ShardResults = []
    for done, future in enumerate(futures, start=1):
        result = future.result()
        _advance(progress, done, count)
        if result is not None:
            low, high = result.pop("shard")
            results.append(((low, high), result))
    return sorted(results, key=lambda item: item[0])


def _advance(progress: UUID | None, done: int, count: int) -> None:
    if progress is not None:
        update_progress_artifact(progress, 100.0 * done / count)


def shard_table(results: list[tuple[tuple[int, int], dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per shard: where the day's transitions, messages and refusals came from."""
    rows = []
    for (low, high), result in results:
        outreach = [result[step]["outreach"] for step in ("plan_monitoring", "reminder", "negotiation")]
        rows.append(
            {
                "accounts": f"{low}-{high}",
                "evaluated": result["stages"]["evaluated"],
                "transitions": sum(result["stages"]["transitions"].values()),
                "queued": sum(o["queued"] for o in outreach),
                "blocked": sum(sum(o["blocked"].values()) for o in outreach),
                "skipped": sum(sum(o["skipped"].values()) for o in outreach),
                "offers made": result["negotiation"]["offers"]["made"],
                "approvals opened": result["legal"]["approval_tasks_opened"],
            }
        )
    return rows


def summary_markdown(summary: dict[str, Any]) -> str:
    """What an engineer reads on the run's page in the Prefect UI."""
    transitions = summary["stages"].get("transitions", {})
    steps = ("payments", "plan_monitoring", "reminder", "negotiation", "legal", "dispatch")
    lines = [
        f"# Daily cycle {summary['as_of']}",
        "",
        f"Accounts evaluated: **{summary['stages'].get('evaluated', 0)}** in {summary['shards']} shard(s)",
        "",
        "| transition | accounts |",
        "|---|---|",
        *(f"| {name} | {count} |" for name, count in sorted(transitions.items())),
        "",
        "| step | counts |",
        "|---|---|",
        *(f"| {step.replace('_', ' ')} | {describe_counts(summary[step])} |" for step in steps),
    ]
    return "\n".join(lines)


def describe_counts(counts: Any) -> str:
    """{'offers': {'made': 2}, 'outreach': {'queued': 3}} -> 'offers: made 2; outreach: queued 3'."""
    if not isinstance(counts, dict):
        return str(counts)
    if not counts:
        return "none"
    parts = [
        f"{key.replace('_', ' ')}: {describe_counts(value)}"
        if isinstance(value, dict)
        else f"{key.replace('_', ' ')} {value}"
        for key, value in counts.items()
    ]
    return ("; " if any(isinstance(value, dict) for value in counts.values()) else ", ").join(parts)

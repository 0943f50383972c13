"""The daily cycle: one flow run per business date, one task run per shard, never a run per account."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.summary import merge_counts
from tasks.cycle_steps import DatabaseUrl, cycle_shard, dispatch_outbox, list_shards


@flow(name="daily-cycle", flow_run_name="cycle-{as_of}")
def daily_cycle(as_of: date, now: datetime | None = None, database_url: DatabaseUrl = None) -> dict[str, Any]:
    """Each shard does the whole day's work for its accounts (overdue/services/shard_cycle.py), then the
    outbox sends what is due inside contact windows."""
    now = now or datetime.combine(as_of, time(), tzinfo=UTC)
    shards = list_shards(database_url)
    summary: dict[str, Any] = {"as_of": as_of.isoformat(), "shards": len(shards)}
    summary |= merge_counts(cycle_shard(database_url, as_of, now, shard) for shard in shards)
    summary["dispatch"] = dispatch_outbox(database_url, now)
    create_markdown_artifact(
        key="daily-cycle-summary", markdown=summary_markdown(summary), description=f"Cycle {as_of}"
    )
    return summary


def summary_markdown(summary: dict[str, Any]) -> str:
    """What an engineer reads on the run's page in the Prefect UI."""
    transitions = summary["stages"].get("transitions", {})
    steps = ("plan_monitoring", "reminder", "negotiation", "legal", "dispatch")
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

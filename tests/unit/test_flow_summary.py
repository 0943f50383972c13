"""The cycle summary engineers read in the Prefect UI: shard counts add up and read as words."""

from __future__ import annotations

from flows.daily_cycle import describe_counts, summary_markdown
from flows.summary import merge_counts


def test_shard_counts_add_up_including_nested_ones() -> None:
    merged = merge_counts(
        [{"queued": 2, "skipped": {"no open offer": 1}}, {"queued": 3, "skipped": {"no open offer": 2}}]
    )
    assert merged == {"queued": 5, "skipped": {"no open offer": 3}}


def test_counts_read_as_words() -> None:
    assert describe_counts({"sent": 5, "deferred": 1}) == "sent 5, deferred 1"
    assert describe_counts({"queued": 3, "skipped": {}}) == "queued 3; skipped: none"
    assert describe_counts(2) == "2"


def test_summary_lists_transitions_and_steps() -> None:
    summary = {
        "as_of": "2026-03-07",
        "shards": 1,
        "payments": {"files": 1, "rejected": 0, "recorded": 2, "already_recorded": 0},
        "stages": {"evaluated": 3, "transitions": {"current->reminder": 1}},
        "plan_monitoring": {"plans": {"checked": 0}},
        "reminder": {"outreach": {"queued": 1}},
        "negotiation": {"offers": {"made": 1}},
        "legal": {"approval_tasks_opened": 0},
        "dispatch": {"sent": 0},
    }
    text = summary_markdown(summary)
    assert "| current->reminder | 1 |" in text
    assert "| legal | approval tasks opened 0 |" in text
    assert "| payments | files 1, rejected 0, recorded 2, already recorded 0 |" in text

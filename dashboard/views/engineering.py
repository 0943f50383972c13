"""Engineering: is the machinery healthy? Recent flow runs per deployment (with links into the Prefect UI),
the daily cycles' shards, failed sends, webhook refusals and queue depths."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard.i18n import fmt_date, fmt_datetime, fmt_number, t
from dashboard.queries import database_url
from dashboard.ui import page_window, table
from overdue.services import operations
from overdue.store.db import session_scope

RUNS_PER_DEPLOYMENT = 5
CYCLES = 14
PAGE_SIZE = 20


def render() -> None:
    st.title(t("engineering.title"))
    now = datetime.now(UTC)
    st.subheader(t("engineering.runs"))
    _flow_runs()
    with session_scope(database_url()) as session:
        depths = operations.queue_depths(session, now)
        cycles = operations.cycle_summaries(session, CYCLES)
        errors = operations.webhook_errors(session, limit=PAGE_SIZE)
        failed_total = operations.failed_sends(session, limit=0, offset=0)[0]
    st.subheader(t("engineering.queues"))
    table(
        [{**row, "depth": fmt_number(row["depth"]), "overdue": fmt_number(row["overdue"])} for row in depths],
        ("queue", "depth", "overdue"),
        "engineering",
    )
    st.subheader(t("engineering.cycles"))
    table(
        [{**row, "as_of": fmt_date(row["as_of"]), "accounts": f"{row['low']}-{row['high']}"} for row in cycles],
        ("as_of", "shards", "done", "pending", "workers", "accounts"),
        "engineering",
    )
    st.subheader(t("engineering.failed", total=fmt_number(failed_total)))
    limit, offset = page_window(failed_total, PAGE_SIZE, "engineering_failed_page")
    with session_scope(database_url()) as session:
        failed = operations.failed_sends(session, limit=limit, offset=offset)[1]
    table(
        [{**row, "send_at": fmt_datetime(row["send_at"]), "error": row["error"] or ""} for row in failed],
        ("id", "account_id", "channel", "provider", "send_at", "error"),
        "engineering",
    )
    st.subheader(t("engineering.webhooks"))
    table(
        [{**row, "received_at": fmt_datetime(row["received_at"])} for row in errors],
        ("received_at", "path", "status", "detail"),
        "engineering",
    )


def _flow_runs() -> None:
    try:
        runs = operations.recent_flow_runs(RUNS_PER_DEPLOYMENT)
    except operations.PrefectNotConfigured:
        st.info(t("engineering.no_prefect_url"), icon=":material/cloud_off:")
        return
    except operations.PrefectUnavailable as exc:  # the error as the client reported it, for the engineer
        st.info(t("engineering.no_prefect", reason=str(exc)), icon=":material/cloud_off:")
        return
    rows = [
        {
            "deployment": run.deployment,
            "run": run.name,
            "state": run.state,
            "started": fmt_datetime(run.started) if run.started else "",
            "link": run.link or "",
        }
        for run in runs
    ]
    if not rows:
        st.caption(t("common.none"))
        return
    headers = {column: t(f"engineering.col_{column}") for column in ("deployment", "run", "state", "started", "link")}
    st.dataframe(
        [{headers[key]: value for key, value in row.items()} for row in rows],
        hide_index=True,
        width="stretch",
        column_config={
            headers["link"]: st.column_config.LinkColumn(headers["link"], display_text=t("engineering.open"))
        },
    )

"""Manager metrics, read only from the daily rollups (overdue/services/rollups.py), never from the facts:
a year of a million accounts is a few hundred thousand rollup rows, summed here by a handful of indexed reads.

A date range and the strategy arms to include filter every figure; the figures download as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import streamlit as st

from dashboard import access
from dashboard.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, t, term
from dashboard.queries import database_url
from dashboard.ui import table
from overdue.services import reporting
from overdue.store.db import session_scope

DEFAULT_DAYS = 30
RANGE, ARMS = "metrics_range", "metrics_arms"
SCALE = {"scheme": "orangered"}
KEY_COLUMNS = {"cohorts": 2, "roll": 2, "arms_recovery": 2}  # the columns that name a row; 1 for the others


def render() -> None:
    st.title(t("metrics.title"))
    with session_scope(database_url()) as session:
        days = reporting.rolled_up_days(session)
    if days is None:
        st.info(t("metrics.no_rollups"), icon=":material/hourglass_empty:")
        return
    first_day, last_day = days
    chosen = st.date_input(
        t("metrics.range"),
        value=(max(first_day, last_day - timedelta(days=DEFAULT_DAYS - 1)), last_day),
        min_value=first_day,
        max_value=last_day,
        key=RANGE,
    )
    first, last = _range(chosen, last_day)
    with session_scope(database_url()) as session:
        window = reporting.rollup_window(session, first, last)
    arms = st.multiselect(t("metrics.arms"), window.arms, default=window.arms, key=ARMS)
    if window.end_day is None:
        st.info(t("metrics.empty_range"))
        return
    st.caption(t("metrics.as_of", first=fmt_date(first), last=fmt_date(window.end_day), days=window.days))
    sections = _sections(window, set(arms))
    for title, rows, columns, formats in sections:
        st.subheader(t(f"metrics.{title}"))
        if title == "funnel":
            _funnel_chart(rows)
        if title == "roll":
            _heatmap(rows)
            continue
        table([_formatted(row, formats) for row in rows], columns, "metrics")
    if access.may("export_metrics"):
        st.download_button(
            t("metrics.download"),
            data=_csv(sections),
            file_name=f"overdue-metrics-{first}-{last}.csv",
            mime="text/csv",
            key="metrics_csv",
        )


def _range(chosen: Any, last_day: date) -> tuple[date, date]:
    """The date input gives one date while the person is still picking the second."""
    if isinstance(chosen, tuple | list) and len(chosen) == 2:
        return chosen[0], chosen[1]
    if isinstance(chosen, tuple | list) and chosen:
        return chosen[0], chosen[0]
    return (chosen, chosen) if isinstance(chosen, date) else (last_day, last_day)


Formats = dict[str, Callable[[Any, dict[str, Any]], str]]


def _pct(value: Any, _: dict[str, Any]) -> str:
    return fmt_percent(value)


def _num(value: Any, _: dict[str, Any]) -> str:
    return fmt_number(value)


def _money(value: Any, row: dict[str, Any]) -> str:
    return fmt_money(int(value), row["currency"])


def _stage(value: Any, _: dict[str, Any]) -> str:
    return t(f"stages.{value}")


def _channel(value: Any, _: dict[str, Any]) -> str:
    return term(f"channels.{value}", str(value))


def _kind(value: Any, _: dict[str, Any]) -> str:
    return term(f"inbox.kind_{value}", str(value))


def _bucket(label: str) -> str:
    """A days-past-due bucket: "1-30" reads the same everywhere, "current" and "closed" are stage words."""
    return term(f"stages.{label}", label)


Section = tuple[str, list[dict[str, Any]], Sequence[str], Formats]


def _sections(window: reporting.RollupWindow, arms: set[str]) -> list[Section]:
    rates = reporting.rates(window, arms)
    rate_rows = [
        {"measure": t(f"metrics.rate_{name}"), "value": value, "kind": kind}
        for name, value, kind in (
            ("cured", rates["cured"], "count"),
            ("cure_rate", rates["cure_rate"], "share"),
            ("self_cure_share", rates["self_cure_share"], "share"),
            ("ptp_kept_rate", rates["ptp_kept_rate"], "share"),
            ("promises_ended", rates["promises_ended"], "count"),
            ("rpc_rate", rates["rpc_rate"], "share"),
            ("call_attempts", rates["call_attempts"], "count"),
            ("disputes_per_1000", rates["disputes_per_1000"], "number"),
            ("complaints_per_1000", rates["complaints_per_1000"], "number"),
        )
    ]
    return [
        ("funnel", reporting.funnel(window, arms), ("stage", "accounts"), {"stage": _stage, "accounts": _num}),
        (
            "cohorts",
            reporting.cohorts(window, arms),
            ("cohort", "currency", "accounts", "placed_minor", "paid_minor", "recovery", "liquidation"),
            {"accounts": _num, "placed_minor": _money, "paid_minor": _money, "recovery": _pct, "liquidation": _pct},
        ),
        ("roll", reporting.roll_matrix(window, arms), ("from", "to", "accounts", "share"), {}),
        ("rates", rate_rows, ("measure", "value"), {"value": _rate_value}),
        (
            "channels",
            reporting.channels(window, arms),
            ("channel", "sent", "delivered", "paid_7d"),
            {"channel": _channel, "sent": _num, "delivered": _pct, "paid_7d": _pct},
        ),
        (
            "approvals",
            reporting.approvals(window, arms),
            ("kind", "open", "past_sla", "decided", "in_sla"),
            {"kind": _kind, "open": _num, "past_sla": _num, "decided": _num, "in_sla": _pct},
        ),
        (
            "arms_compared",
            [row for row in reporting.arms_compared(window) if row["arm"] in arms],
            ("arm", "accounts", "closed", "contacts_per_account", "cured", "ptp_kept_rate"),
            {
                "accounts": _num,
                "closed": _pct,
                "contacts_per_account": lambda value, _: "–" if value is None else fmt_number(round(value, 2)),
                "cured": _num,
                "ptp_kept_rate": _pct,
            },
        ),
        (
            "arms_recovery",
            [row for row in reporting.arms_recovery(window) if row["arm"] in arms],
            ("arm", "currency", "placed_minor", "paid_minor", "recovery"),
            {"placed_minor": _money, "paid_minor": _money, "recovery": _pct},
        ),
    ]


def _rate_value(value: Any, row: dict[str, Any]) -> str:
    if value is None:
        return "–"
    if row["kind"] == "share":
        return fmt_percent(value)
    return fmt_number(round(value, 2))


def _formatted(row: dict[str, Any], formats: Formats) -> dict[str, Any]:
    return {key: formats[key](value, row) if key in formats else value for key, value in row.items()}


def _funnel_chart(rows: list[dict[str, Any]]) -> None:
    data = [
        {"stage": t(f"stages.{row['stage']}"), "accounts": row["accounts"], "order": n} for n, row in enumerate(rows)
    ]
    spec = {
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "stage", "type": "nominal", "sort": {"field": "order"}, "title": None},
            "x": {"field": "accounts", "type": "quantitative", "title": t("metrics.col_accounts")},
        },
    }
    st.vega_lite_chart(data, spec, width="stretch")


def _heatmap(rows: list[dict[str, Any]]) -> None:
    """Roll rates as a heatmap: the share of each row's accounts that were in each bucket the next day."""
    if not rows:
        st.caption(t("common.none"))
        return
    order = [_bucket(label) for label in dict.fromkeys(row["from"] for row in rows)]
    data = [
        {**row, "from": _bucket(row["from"]), "to": _bucket(row["to"]), "label": fmt_percent(row["share"])}
        for row in rows
    ]
    axis = {"type": "ordinal", "sort": order}
    upright = {"labelAngle": 0, "titleAngle": 0}  # a vertical title turns Chinese characters on their side
    spec = {
        "encoding": {
            "x": {"field": "to", **axis, "title": t("metrics.roll_to"), "axis": {**upright, "orient": "top"}},
            "y": {
                "field": "from",
                **axis,
                "title": t("metrics.roll_from"),
                "axis": {**upright, "titleAlign": "right", "titleY": -8, "titleX": -4},
            },
        },
        "layer": [
            {
                "mark": "rect",
                "encoding": {
                    "color": {
                        "field": "share",
                        "type": "quantitative",
                        "scale": {"scheme": "orangered"},
                        "legend": None,
                    }
                },
            },
            {"mark": {"type": "text", "fontSize": 11}, "encoding": {"text": {"field": "label"}}},
        ],
    }
    st.vega_lite_chart(data, spec, width="stretch")


def _csv(sections: list[Section]) -> str:
    """Every figure on the page, unformatted, one row per value: section, row, column, value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "row", "column", "value"])
    for title, rows, columns, _ in sections:
        keys = KEY_COLUMNS.get(title, 1)
        for row in rows:
            label = " / ".join(str(row[column]) for column in columns[:keys])
            for column in columns[keys:]:
                writer.writerow([title, label, column, row[column]])
    return out.getvalue()

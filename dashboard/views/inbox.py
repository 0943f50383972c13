"""Ops inbox: my tasks and the team queue, filtered and paged in SQL, each with its SLA timer; open one to see
the account, the case file and the decision form (dashboard/views/inbox_task.py).

Every button carries the task id (and, for a decision, the version) that was on screen into its click callback,
so a click acts on the task the person looked at even if the list changed since (a table row selection is a
position and has hit the wrong row: streamlit#17026).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import streamlit as st

from dashboard import outcomes, queries
from dashboard.i18n import fmt_money, t
from dashboard.identity import current_roles, current_user
from dashboard.inbox_format import OPEN_KEY, OUTCOMES_KEY, kind_label, labels, md, sla_timer, status_label
from dashboard.views import inbox_task
from overdue.domain import tasks as rules
from overdue.runtime import get_runtime
from overdue.services.task_queue import Scope, TaskFilter, TaskRow, count_tasks, list_tasks
from overdue.store.db import session_scope

PAGE_SIZE = 20
SCOPES: tuple[Scope, ...] = ("mine", "team")
SLA_FILTERS = ("any", "breached", "within")
STATUS_FILTERS = {"pending": rules.PENDING, "decided": (rules.APPROVED, rules.REJECTED, rules.WITHDRAWN)}


def render() -> None:
    now = datetime.now(UTC)
    st.title(t("inbox.title"))
    outcomes.show(OUTCOMES_KEY)
    user, roles = current_user(), current_roles()
    url = queries.database_url()
    kinds = get_runtime(url).config.tasks.kinds

    opened = st.session_state.get(OPEN_KEY)
    if isinstance(opened, int):
        inbox_task.render(opened, user, roles, now)
        st.divider()

    scope = st.segmented_control(
        t("inbox.scope"),
        SCOPES,
        format_func=labels({s: t(f"inbox.scope_{s}") for s in SCOPES}),
        key="inbox_scope",
        default="team",
        label_visibility="collapsed",
    )
    filters = st.columns(3)
    chosen_kinds = filters[0].multiselect(
        t("inbox.filter_kind"),
        sorted(kinds),
        format_func=labels({k: kind_label(k) for k in kinds}),
        key="inbox_kinds",
        placeholder=t("inbox.filter_kind_all"),
    )
    status = filters[1].selectbox(
        t("inbox.filter_status"),
        list(STATUS_FILTERS),
        format_func=labels({s: t(f"inbox.status_{s}") for s in STATUS_FILTERS}),
        key="inbox_status",
    )
    sla = filters[2].selectbox(
        t("inbox.filter_sla"),
        SLA_FILTERS,
        format_func=labels({s: t(f"inbox.sla_{s}") for s in SLA_FILTERS}),
        key="inbox_sla",
    )
    selected = TaskFilter(
        scope=scope or "team",
        user=user,
        roles=roles,
        kinds=tuple(chosen_kinds),
        statuses=STATUS_FILTERS[status],
        breached={"any": None, "breached": True, "within": False}[sla],
    )
    with session_scope(url) as session:
        counts = count_tasks(session, selected, now)
    total_col, sla_col = st.columns(2)
    total_col.metric(t("inbox.metric_total"), counts.total)
    sla_col.metric(t("inbox.metric_breached"), counts.breached)

    pages = max(1, math.ceil(counts.total / PAGE_SIZE))
    page = st.pagination(pages, key="inbox_page") if pages > 1 else 1
    with session_scope(url) as session:
        rows = list_tasks(session, selected, now, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    if not rows:
        st.success(t("inbox.empty"), icon=":material/done_all:")
    for row in rows:
        _row(row, now)


def _row(row: TaskRow, now: datetime) -> None:
    with st.container(border=True, key=f"row-{row.id}"):
        left, right = st.columns([5, 1], vertical_alignment="center")
        assignee = row.assignee or t("inbox.unassigned")
        left.markdown(
            t(
                "inbox.row",
                task=row.id,
                kind=kind_label(row.kind),
                status=status_label(row.status),
                account=md(row.account_ref),
                customer=md(row.customer_name),
                balance=md(fmt_money(row.balance_minor, row.currency)),
                assignee=md(assignee),
            )
        )
        left.markdown(sla_timer(row, now))
        right.button(t("inbox.open"), key=f"open-{row.id}", on_click=_open, args=(row.id,), use_container_width=True)


def _open(task_id: int) -> None:
    st.session_state[OPEN_KEY] = task_id

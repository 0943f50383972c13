"""Pending approvals: people approve or reject legal escalations, one form per task.

Each form's buttons carry the task id and the version that was on screen into their click callback, so a
click decides the task the person looked at even if the list has changed since (a table row selection is a
position and has hit the wrong row). The conditional write in `decide_task` turns a double click or a
colleague's earlier decision into a message instead of a second decision.

Personal data shows masked. Revealing a value takes a reason; the reveal is recorded (who, which field,
why) before the value is shown, and it is shown only in the run that click causes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import streamlit as st

from dashboard import queries
from dashboard.i18n import fmt_datetime, fmt_money, t, text
from dashboard.identity import current_locale, current_user
from overdue.runtime import get_runtime
from overdue.services.cycle import LEGAL_ESCALATION
from overdue.services.decisions import DecisionError, decide_task
from overdue.services.personal_data import PersonalField, RevealRefused, reveal
from overdue.store.db import session_scope

PAGE_SIZE = 20
RECENT = 10
OUTCOMES_KEY = "approvals_outcomes"
REVEALED_KEY = "approvals_revealed"

Level = Literal["success", "warning", "error"]
BUTTONS: tuple[tuple[str, Literal["primary", "secondary"]], ...] = (("approve", "primary"), ("reject", "secondary"))
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def render() -> None:
    now = datetime.now(UTC)
    st.title(t("approvals.title"))
    st.caption(t("approvals.caption"))
    _show_outcomes()
    revealed = st.session_state.pop(REVEALED_KEY, None)  # shown in this run only
    user = current_user()

    url = queries.database_url()
    with session_scope(url) as session:
        counts = queries.count_open_tasks(session, LEGAL_ESCALATION, now)
    total_col, sla_col = st.columns(2)
    total_col.metric(t("approvals.open"), counts.total)
    sla_col.metric(t("approvals.past_sla"), counts.past_sla)

    pages = max(1, math.ceil(counts.total / PAGE_SIZE))
    page = st.pagination(pages, key="approvals_page") if pages > 1 else 1
    with session_scope(url) as session:
        tasks = queries.open_tasks(session, LEGAL_ESCALATION, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        recent = queries.recently_decided(session, LEGAL_ESCALATION, limit=RECENT)

    if not tasks:
        st.success(t("approvals.nothing"), icon=":material/done_all:")
    for task in tasks:
        _task_form(task, user, now)
        _reveal_panel(task, user, revealed)
    _recent_table(recent)


def _task_form(task: queries.PendingTask, user: str, now: datetime) -> None:
    money = fmt_money(task.balance_minor, task.currency)
    with st.form(key=f"task-{task.id}", enter_to_submit=False):
        st.markdown(
            t(
                "approvals.task",
                id=task.id,
                account=_md(task.account_ref),
                name=_md(task.customer_name),
                jurisdiction=_md(task.jurisdiction),
            )
        )
        st.markdown(
            t(
                "approvals.facts",
                stage=_md(t(f"stages.{task.stage}")),
                dpd=task.dpd,
                balance=_md(money),
                rule=_md(task.rule),
            )
        )
        st.markdown(_timing(task, now))
        if personal := _personal_data(task):
            st.markdown(personal)
        st.text_area(
            t("approvals.reason"),
            key=f"reason-{task.id}",
            max_chars=1000,
            height=68,
            placeholder=t("approvals.reason_hint"),
        )
        buttons = st.container(horizontal=True)
        for decision, kind in BUTTONS:
            buttons.form_submit_button(
                t(f"approvals.{decision}"),
                key=f"{decision}-{task.id}",
                type=kind,
                disabled=not user,
                on_click=_decide,
                args=(task.id, task.version, decision),
            )


def _personal_data(task: queries.PendingTask) -> str:
    shown = [(t(f"account.field_{field.value}"), getattr(task.details, field.value)) for field in PersonalField]
    return " · ".join(f"{label} {_md(value)}" for label, value in shown if value)


@dataclass(frozen=True, slots=True)
class Revealed:
    task_id: int
    field: PersonalField
    value: str


def _reveal_panel(task: queries.PendingTask, user: str, revealed: object) -> None:
    fields = [field for field in PersonalField if getattr(task.details, field.value)]
    if not fields:
        return
    shown = revealed if isinstance(revealed, Revealed) and revealed.task_id == task.id else None
    with st.expander(t("approvals.reveal_title", id=task.id), expanded=shown is not None):
        if shown is not None:
            st.caption(t("account.revealed", field=t(f"account.field_{shown.field.value}")))
            st.code(shown.value, language=None)
        st.selectbox(
            t("account.reveal_field"),
            fields,
            format_func={field: t(f"account.field_{field.value}") for field in fields}.__getitem__,
            key=f"reveal-field-{task.id}",
        )
        st.text_input(
            t("approvals.reveal_reason"),
            key=f"reveal-reason-{task.id}",
            max_chars=500,
            placeholder=t("approvals.reveal_reason_hint"),
        )
        st.button(
            t("account.reveal"),
            key=f"reveal-{task.id}",
            disabled=not user,
            on_click=_reveal,
            args=(task.id, task.account_id),
        )


def _reveal(task_id: int, account_id: int) -> None:
    """Click callback. The reveal is committed to the audit trail before the value goes into the session:
    an interrupted callback can leave a recorded reveal unshown, never a shown one unrecorded."""
    outcomes = _outcomes()
    user = current_user()
    field = PersonalField(st.session_state[f"reveal-field-{task_id}"])
    reason = str(st.session_state.get(f"reveal-reason-{task_id}", ""))
    url = queries.database_url()
    if not user:
        outcomes.add(task_id, "error", t("approvals.signed_out_reveal", id=task_id))
        return
    try:
        with session_scope(url) as session:
            value = reveal(session, get_runtime(url).vault, account_id, field, user, reason, datetime.now(UTC))
    except RevealRefused as exc:
        outcomes.add(task_id, "error", t("approvals.reveal_refused", id=task_id, problem=str(exc)))
        return
    st.session_state[REVEALED_KEY] = Revealed(task_id, field, value)
    st.session_state[f"reveal-reason-{task_id}"] = ""  # the next reveal needs its own reason


def _timing(task: queries.PendingTask, now: datetime) -> str:
    line = t("approvals.waiting", duration=_duration(now - task.created_at))
    if task.due_at is None:
        return line + " · " + t("approvals.no_sla")
    due = _md(fmt_datetime(task.due_at, "short"))
    if task.due_at < now:
        late = t("approvals.sla_overdue", duration=_duration(now - task.due_at))
        return line + " · " + t("approvals.sla_due", due=due) + f" :red-badge[:material/alarm: {late}]"
    remaining = t("approvals.sla_in", duration=_duration(task.due_at - now))
    return line + " · " + t("approvals.sla_due", due=due) + " " + remaining


def _decide(task_id: int, version: int, decision: str) -> None:
    """Click callback: runs before the rerun the click causes, with the id and version that were displayed.

    Every `st` access can be interrupted by the next click (a double click), so all of them happen before the
    write; after the commit only plain Python runs, and the outcome cannot be lost.
    """
    outcomes = _outcomes()
    user = current_user()
    locale = current_locale()  # the texts after the write are made with it, without touching `st`
    reason = str(st.session_state.get(f"reason-{task_id}", "")).strip()
    if not user:
        outcomes.add(task_id, "error", t("approvals.signed_out_decide", id=task_id))
        return
    if not reason:
        outcomes.add(task_id, "error", t(f"approvals.reason_required_{decision}", id=task_id))
        return
    try:
        with session_scope(queries.database_url()) as session:
            task = decide_task(session, task_id, version, decision, reason, user, datetime.now(UTC))
    except DecisionError as exc:
        message = str(exc)
        problem = message[:1].upper() + message[1:]
        outcomes.add(task_id, "warning", text("approvals.not_recorded", locale, problem=problem))
        return
    follow_up = " " + text("approvals.legal_opened", locale) if task.status == "approved" else ""
    status = text(f"approvals.status_{task.status}", locale)
    outcomes.add(
        task_id, "success", text("approvals.decided", locale, id=task_id, status=status, user=user) + follow_up
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    task_id: int
    level: Level
    message: str


@dataclass
class Outcomes:
    """What the last clicks did, kept in the session (mutated in place) for the run those clicks cause."""

    items: list[Outcome] = field(default_factory=list)
    fresh: bool = False

    def add(self, task_id: int, level: Level, message: str) -> None:
        """Earlier outcomes go, except a recorded decision on the same task: after a double click the person
        sees both the decision and the refused repeat."""
        kept = [o for o in self.items if o.task_id == task_id and o.level == "success"]
        self.items = [*kept, Outcome(task_id, level, message)]
        self.fresh = True

    def to_show(self) -> list[Outcome]:
        """Outcomes show in the run their click caused; any other interaction (paging, another page) clears them."""
        if not self.fresh:
            self.items = []
        self.fresh = False
        return list(self.items)


def _outcomes() -> Outcomes:
    outcomes = st.session_state.get(OUTCOMES_KEY)
    if not isinstance(outcomes, Outcomes):  # first run, or the module was reloaded during development
        outcomes = st.session_state[OUTCOMES_KEY] = Outcomes()
    return outcomes


def _show_outcomes() -> None:
    show = {"success": st.success, "warning": st.warning, "error": st.error}
    for outcome in _outcomes().to_show():
        show[outcome.level](outcome.message)


def _recent_table(recent: list[queries.DecidedTask]) -> None:
    st.subheader(t("approvals.recent"))
    if not recent:
        st.caption(t("approvals.no_recent"))
        return
    columns = {name: t(f"approvals.col_{name}") for name in ("task", "account", "decision", "by", "reason", "when")}
    st.table(
        [
            {
                columns["task"]: task.id,
                columns["account"]: task.account_ref,
                columns["decision"]: t(f"approvals.status_{task.decision}"),
                columns["by"]: task.decided_by,
                columns["reason"]: task.reason,
                columns["when"]: fmt_datetime(task.decided_at, "short"),
            }
            for task in recent
        ],
        hide_index=True,
    )


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return t("approvals.days_hours", days=days, hours=hours)
    if hours:
        return t("approvals.hours_minutes", hours=hours, minutes=minutes)
    return t("approvals.minutes", minutes=minutes)


def _md(text: str) -> str:
    """Data is shown as text, never interpreted: `****7890` must not turn bold, a name must not become a link."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)

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
from dashboard.identity import current_user
from overdue.domain.money import format_money
from overdue.runtime import get_runtime
from overdue.services.cycle import LEGAL_ESCALATION
from overdue.services.decisions import DecisionError, decide_task
from overdue.services.personal_data import PersonalField, RevealRefused, reveal
from overdue.store.db import session_scope

PAGE_SIZE = 20
RECENT = 10
LOCALE = "en-US"
OUTCOMES_KEY = "approvals_outcomes"
REVEALED_KEY = "approvals_revealed"

Level = Literal["success", "warning", "error"]
BUTTONS: tuple[tuple[str, str, Literal["primary", "secondary"]], ...] = (
    ("approve", "Approve", "primary"),
    ("reject", "Reject", "secondary"),
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def render() -> None:
    now = datetime.now(UTC)
    st.title("Pending approvals")
    st.caption("Legal escalations waiting for a person, oldest first. Every decision needs a reason.")
    _show_outcomes()
    revealed = st.session_state.pop(REVEALED_KEY, None)  # shown in this run only
    user = current_user()

    url = queries.database_url()
    with session_scope(url) as session:
        counts = queries.count_open_tasks(session, LEGAL_ESCALATION, now)
    total_col, sla_col = st.columns(2)
    total_col.metric("Open escalations", counts.total)
    sla_col.metric("Past SLA", counts.past_sla)

    pages = max(1, math.ceil(counts.total / PAGE_SIZE))
    page = st.pagination(pages, key="approvals_page") if pages > 1 else 1
    with session_scope(url) as session:
        tasks = queries.open_tasks(session, LEGAL_ESCALATION, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        recent = queries.recently_decided(session, LEGAL_ESCALATION, limit=RECENT)

    if not tasks:
        st.success("Nothing waiting for a decision.", icon=":material/done_all:")
    for task in tasks:
        _task_form(task, user, now)
        _reveal_panel(task, user, revealed)
    _recent_table(recent)


def _task_form(task: queries.PendingTask, user: str, now: datetime) -> None:
    money = format_money(task.balance_minor, task.currency, LOCALE)
    with st.form(key=f"task-{task.id}", enter_to_submit=False):
        st.markdown(
            f"**Task {task.id}** · account {_md(task.account_ref)} · {_md(task.customer_name)} · "
            f"{_md(task.jurisdiction)}"
        )
        st.markdown(
            f"Stage **{_md(task.stage)}** · **{task.dpd}** days past due · balance **{_md(money)}** · "
            f"rule **{_md(task.rule)}**"
        )
        st.markdown(_timing(task, now))
        if personal := _personal_data(task):
            st.markdown(personal)
        st.text_area(
            "Reason",
            key=f"reason-{task.id}",
            max_chars=1000,
            height=68,
            placeholder="Why approve or reject? Kept in the audit trail.",
        )
        buttons = st.container(horizontal=True)
        for decision, label, kind in BUTTONS:
            buttons.form_submit_button(
                label,
                key=f"{decision}-{task.id}",
                type=kind,
                disabled=not user,
                on_click=_decide,
                args=(task.id, task.version, decision),
            )


def _personal_data(task: queries.PendingTask) -> str:
    shown = [(field.label, getattr(task.details, field.value)) for field in PersonalField]
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
    with st.expander(f"Reveal personal data for task {task.id}", expanded=shown is not None):
        if shown is not None:
            st.caption(f"{shown.field.label}: the reveal is in the audit trail; your next action hides it again.")
            st.code(shown.value, language=None)
        st.selectbox("Field", fields, format_func=lambda field: field.label, key=f"reveal-field-{task.id}")
        st.text_input(
            "Reason to reveal",
            key=f"reveal-reason-{task.id}",
            max_chars=500,
            placeholder="Why you need the full value. Kept in the audit trail.",
        )
        st.button(
            "Reveal",
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
        outcomes.add(task_id, "error", f"Task {task_id}: your sign-in has ended; sign in again. Nothing was revealed.")
        return
    try:
        with session_scope(url) as session:
            value = reveal(session, get_runtime(url).vault, account_id, field, user, reason, datetime.now(UTC))
    except RevealRefused as exc:
        outcomes.add(task_id, "error", f"Task {task_id}: {exc}. Nothing was revealed.")
        return
    st.session_state[REVEALED_KEY] = Revealed(task_id, field, value)
    st.session_state[f"reveal-reason-{task_id}"] = ""  # the next reveal needs its own reason


def _timing(task: queries.PendingTask, now: datetime) -> str:
    text = f"Waiting {_duration(now - task.created_at)}"
    if task.due_at is None:
        return text + " · no SLA"
    due = task.due_at.strftime("%Y-%m-%d %H:%M UTC")
    if task.due_at < now:
        return text + f" · SLA due {due} :red-badge[:material/alarm: overdue SLA by {_duration(now - task.due_at)}]"
    return text + f" · SLA due {due} (in {_duration(task.due_at - now)})"


def _decide(task_id: int, version: int, decision: str) -> None:
    """Click callback: runs before the rerun the click causes, with the id and version that were displayed.

    Every `st` access can be interrupted by the next click (a double click), so all of them happen before the
    write; after the commit only plain Python runs, and the outcome cannot be lost.
    """
    outcomes = _outcomes()
    user = current_user()
    reason = str(st.session_state.get(f"reason-{task_id}", "")).strip()
    if not user:
        outcomes.add(task_id, "error", f"Task {task_id}: your sign-in has ended; sign in again. Nothing was recorded.")
        return
    if not reason:
        outcomes.add(task_id, "error", f"Task {task_id}: a reason is required to {decision}. Nothing was recorded.")
        return
    try:
        with session_scope(queries.database_url()) as session:
            task = decide_task(session, task_id, version, decision, reason, user, datetime.now(UTC))
    except DecisionError as exc:
        message = str(exc)
        outcomes.add(task_id, "warning", message[:1].upper() + message[1:])
        return
    follow_up = " A legal case is open and queued messages are cancelled." if task.status == "approved" else ""
    outcomes.add(task_id, "success", f"Task {task_id} {task.status} by {user}.{follow_up}")


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
    st.subheader("Recently decided")
    if not recent:
        st.caption("No decisions yet.")
        return
    st.table(
        [
            {
                "Task": task.id,
                "Account": task.account_ref,
                "Decision": task.decision,
                "Decided by": task.decided_by,
                "Reason": task.reason,
                "When": task.decided_at.strftime("%Y-%m-%d %H:%M UTC"),
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
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _md(text: str) -> str:
    """Data is shown as text, never interpreted: `****7890` must not turn bold, a name must not become a link."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)

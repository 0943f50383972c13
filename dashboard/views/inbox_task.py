"""One task opened in the inbox: the account, what the task is about, its history, the case file, and the actions
(claim, release, assign, comment, attach evidence, decide).

Every `st` access in a click callback happens before the write (the next click can interrupt a callback at any
`st` call); after the commit only plain Python runs, so a recorded step is never left unreported. Personal data
shows masked; revealing a value takes a reason and is audited before it is shown, in the run that click causes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from dashboard import outcomes, queries
from dashboard.i18n import fmt_date, fmt_datetime, fmt_money, t, term
from dashboard.identity import current_roles, current_user
from dashboard.inbox_format import (
    OPEN_KEY,
    OUTCOMES_KEY,
    kind_label,
    labels,
    md,
    refusal_text,
    sla_timer,
    status_label,
)
from dashboard.views import inbox_evidence
from overdue.config.models import ROLES
from overdue.domain import tasks as rules
from overdue.domain.money import to_minor
from overdue.runtime import get_runtime
from overdue.services import tasks as queue
from overdue.services.agent_calls import CallReport, Document, log_call
from overdue.services.case_file import CaseFile, case_file
from overdue.services.continuation import DEFERRED, STARTED, decide
from overdue.services.conversations import OUTCOMES
from overdue.services.decisions import DecisionError
from overdue.services.personal_data import PersonalField, RevealRefused, reveal
from overdue.services.task_queue import TaskRow, get_task_row
from overdue.store.db import session_scope
from overdue.store.tables import Account, TaskActivity

REVEALED_KEY = "inbox_revealed"
DECISIONS = ("approve", "reject", "request_info")  # the first is the primary button
UPLOAD_MB = queue.MAX_ATTACHMENT_BYTES // (1024 * 1024)  # the uploader says the limit the service keeps
PAYLOAD_SHOWN = ("rule", "intent", "excerpt", "note", "reason", "time_barred_on")


@dataclass(frozen=True, slots=True)
class Revealed:
    task_id: int
    field: PersonalField
    value: str


def render(task_id: int, user: str, roles: frozenset[str], now: datetime) -> None:
    url = queries.database_url()
    with session_scope(url) as session:
        row = get_task_row(session, task_id)
        history = queue.activities(session, task_id)
        approvers = queue.approvers(session, task_id)
        file = case_file(session, row.account_id) if row is not None else None
    if row is None or file is None:
        st.session_state.pop(OPEN_KEY, None)
        st.info(t("inbox.task_gone", task=task_id))
        return
    revealed = st.session_state.pop(REVEALED_KEY, None)  # shown in this run only
    with st.container(border=True, key=f"task-panel-{task_id}"):
        head, close = st.columns([6, 1], vertical_alignment="center")
        head.subheader(t("inbox.task_header", task=row.id, kind=kind_label(row.kind)))
        close.button(t("inbox.close"), key=f"close-{task_id}", on_click=_close, use_container_width=True)
        _summary(row, approvers, now)
        _queue_actions(row, user, roles)
        _decision_form(row, user, roles, approvers)
        _notes(row)
        _call_form(row)
        _history(history)
        _case_file(row.id, file)
        _reveal_panel(row, file, revealed)


def _summary(row: TaskRow, approvers: list[str], now: datetime) -> None:
    st.markdown(
        t(
            "inbox.summary",
            status=status_label(row.status),
            role=role_label(row.role_needed),
            assignee=md(row.assignee or t("inbox.unassigned")),
            requested_by=md(row.requested_by),
        )
    )
    st.markdown(sla_timer(row, now))
    st.markdown(
        t(
            "inbox.account_line",
            account=md(row.account_ref),
            customer=md(row.customer_name),
            jurisdiction=md(row.jurisdiction),
            stage=t(f"stages.{row.stage}"),
            dpd=row.dpd,
            balance=md(fmt_money(row.balance_minor, row.currency)),
        )
    )
    details = [
        f"**{t(f'inbox.payload_{key}')}** {md(row.payload[key])}" for key in PAYLOAD_SHOWN if row.payload.get(key)
    ]
    if details:
        st.markdown(" · ".join(details))
    if row.approvals_needed > 1:
        names = ", ".join(approvers) or "-"
        st.markdown(t("inbox.approvals", done=row.approvals, needed=row.approvals_needed, names=md(names)))


def role_label(role: str) -> str:
    """A role in the person's language; a task from before configs/tasks.yaml may name another role."""
    return t(f"roles.{role}") if role in ROLES else md(role)


def _queue_actions(row: TaskRow, user: str, roles: frozenset[str]) -> None:
    if row.status not in rules.PENDING:
        return
    view = row.view
    buttons = st.container(horizontal=True)
    buttons.button(
        t("inbox.claim"),
        key=f"claim-{row.id}",
        disabled=rules.refuse_claim(view, user, roles) is not None or row.assignee == user,
        on_click=_claim,
        args=(row.id,),
    )
    buttons.button(
        t("inbox.release"),
        key=f"release-{row.id}",
        disabled=rules.refuse_release(view, user, roles) is not None,
        on_click=_release,
        args=(row.id,),
    )
    if row.status == rules.INFO_REQUESTED:
        buttons.button(
            t("inbox.info_received"),
            key=f"info-received-{row.id}",
            disabled=rules.refuse_info_received(view, roles) is not None,
            on_click=_info_received,
            args=(row.id,),
        )
    if rules.refuse_assign(view, roles) is None:
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input(t("inbox.assign_to"), key=f"assignee-{row.id}", max_chars=64)
            st.button(t("inbox.assign"), key=f"assign-{row.id}", on_click=_assign, args=(row.id,))


def _decision_form(row: TaskRow, user: str, roles: frozenset[str], approvers: list[str]) -> None:
    if row.status not in rules.PENDING:
        return
    view = row.view
    with st.form(key=f"task-{row.id}", enter_to_submit=False):
        st.text_area(
            t("inbox.reason"),
            key=f"reason-{row.id}",
            max_chars=1000,
            height=68,
            placeholder=t("inbox.reason_placeholder"),
        )
        buttons = st.container(horizontal=True)
        for decision in DECISIONS:
            refused = rules.refuse_decision(view, decision, user, roles, approvers)
            buttons.form_submit_button(
                t(f"inbox.decide_{decision}"),
                key=f"{decision}-{row.id}",
                type="primary" if decision == DECISIONS[0] else "secondary",
                disabled=refused is not None and refused.code in ("needs_role", "claimed_by"),
                on_click=_decide,
                args=(row.id, row.version, row.kind, decision),
            )
        if row.role_needed not in roles:
            st.caption(t("inbox.decide_needs_role", role=role_label(row.role_needed)))


def _notes(row: TaskRow) -> None:
    with st.expander(t("inbox.add_note")):
        st.text_area(t("inbox.comment"), key=f"comment-{row.id}", max_chars=4000, height=68)
        st.button(t("inbox.add_comment"), key=f"comment-btn-{row.id}", on_click=_comment, args=(row.id,))
        st.file_uploader(t("inbox.evidence"), key=f"upload-{row.id}", max_upload_size=UPLOAD_MB)
        st.text_input(t("inbox.evidence_note"), key=f"upload-note-{row.id}", max_chars=500)
        st.button(t("inbox.attach"), key=f"attach-{row.id}", on_click=_attach, args=(row.id,))


def _call_form(row: TaskRow) -> None:
    """An agent on the phone with the customer logs the call here: it feeds the contact guard and the metrics, a
    dispute stops collection, a hardship report goes to review with the documents the customer sent."""
    with st.expander(t("inbox.call_title")):
        st.selectbox(
            t("inbox.call_outcome"),
            OUTCOMES,
            format_func=labels({o: t(f"inbox.outcome_{o}") for o in OUTCOMES}),
            key=f"call-outcome-{row.id}",
        )
        st.checkbox(t("inbox.call_right_party"), value=True, key=f"call-rpc-{row.id}")
        left, right = st.columns(2)
        left.date_input(t("inbox.call_promised_on"), value=None, key=f"call-promised-on-{row.id}")
        right.text_input(t("inbox.call_promised_amount", currency=row.currency), key=f"call-amount-{row.id}")
        st.text_area(t("inbox.call_note"), key=f"call-note-{row.id}", max_chars=2000, height=68)
        st.file_uploader(
            t("inbox.call_documents"), accept_multiple_files=True, key=f"call-docs-{row.id}", max_upload_size=UPLOAD_MB
        )
        st.button(t("inbox.call_log"), key=f"call-log-{row.id}", on_click=_log_call, args=(row.id, row.account_id))


def _history(history: list[TaskActivity]) -> None:
    st.markdown(f"**{t('inbox.history')}**")
    if not history:
        st.caption(t("inbox.no_history"))
        return
    st.table(
        [
            {
                t("inbox.col_when"): fmt_datetime(a.at) if a.at else "",
                t("inbox.col_what"): t(f"inbox.activity_{a.kind}"),
                t("inbox.col_who"): a.actor,
                t("inbox.col_text"): a.text,
            }
            for a in history
        ],
        hide_index=True,
    )


def _case_file(task_id: int, file: CaseFile) -> None:
    currency = str(file.account["currency"])

    def money(minor: Any) -> str:
        return fmt_money(int(minor), currency) if minor is not None else ""

    st.markdown(f"**{t('inbox.case_file')}**")
    with st.expander(t("inbox.cf_statement"), expanded=True):
        st.table(
            [
                {
                    t("inbox.col_date"): fmt_date(line.on),
                    t("inbox.col_description"): t(f"inbox.statement_{line.kind}", reference=line.reference),
                    t("inbox.col_amount"): money(line.amount_minor),
                    t("inbox.col_balance"): money(line.balance_minor),
                }
                for line in file.statement
            ],
            hide_index=True,
        )
    with st.expander(t("inbox.cf_contacts", count=len(file.contacts))):
        _table(
            [
                {
                    t("inbox.col_when"): fmt_datetime(c.at),
                    t("inbox.col_what"): t(f"inbox.contact_{c.kind}"),
                    t("inbox.col_channel"): term(f"channels.{c.channel}", c.channel),
                    t("inbox.col_text"): c.detail,
                    t("inbox.col_status"): term(f"message_status.{c.status}", c.status),
                }
                for c in file.contacts
            ]
        )
    with st.expander(t("inbox.cf_plans", count=len(file.offers) + len(file.plans))):
        _table(
            [
                {
                    t("inbox.col_what"): t("inbox.offer") if "installments" in o and "kind" in o else "",
                    t("inbox.col_status"): o["status"],
                    t("inbox.col_amount"): money(o["total_minor"]),
                    t("inbox.col_date"): fmt_date(o["created_on"]),
                }
                for o in file.offers
            ]
            + [
                {
                    t("inbox.col_what"): t("inbox.plan", paid=_paid(p), count=len(p["installments"])),
                    t("inbox.col_status"): p["status"],
                    t("inbox.col_amount"): money(p["total_minor"]),
                    t("inbox.col_date"): fmt_date(p["created_on"]),
                }
                for p in file.plans
            ]
        )
    with st.expander(t("inbox.cf_holds", count=len(file.holds))):
        _table(
            [
                {
                    t("inbox.col_what"): h["kind"],
                    t("inbox.col_date"): fmt_date(h["starts_on"]),
                    t("inbox.col_until"): fmt_date(h["ends_on"]) if h["ends_on"] else "",
                    t("inbox.col_text"): h["reason"],
                }
                for h in file.holds
            ]
        )
    inbox_evidence.render(task_id, file.evidence)
    if file.legal_case is not None:
        case = file.legal_case
        with st.expander(t("inbox.cf_legal", status=case["status"]), expanded=True):
            st.markdown(
                t(
                    "inbox.legal_line",
                    case=case["id"],
                    opened=md(fmt_date(case["opened_on"])),
                    approved_by=md(case["approved_by"]),
                    costs=md(money(case["costs_minor"])),
                    letter=t("inbox.letter_queued", message=case["demand_letter_id"])
                    if case["demand_letter_id"]
                    else t("inbox.letter_pending"),
                )
            )
            _table(
                [
                    {
                        t("inbox.col_status"): s["status"],
                        t("inbox.col_date"): fmt_date(s["on"]),
                        t("inbox.col_amount"): money(s["cost_minor"]),
                        t("inbox.col_text"): s["note"],
                    }
                    for s in case["steps"]
                ]
            )


def _paid(plan: dict[str, Any]) -> int:
    return sum(1 for item in plan["installments"] if item["paid_minor"] >= item["amount_minor"])


def _table(rows: list[dict[str, Any]]) -> None:
    if rows:
        st.table(rows, hide_index=True)
    else:
        st.caption(t("inbox.nothing"))


def _reveal_panel(row: TaskRow, file: CaseFile, revealed: object) -> None:
    masked = {"phone": file.customer["phone"], "email": file.customer["email"]} | {
        "national_id": file.customer["national_id"],
        "card_number": file.account["card_number"],
        "bank_account": file.account["bank_account"],
    }
    fields = [f for f in PersonalField if masked.get(f.value)]
    if not fields:
        return
    st.markdown(" · ".join(f"{t(f'inbox.pii_{f.value}')} {md(masked[f.value])}" for f in fields))
    shown = revealed if isinstance(revealed, Revealed) and revealed.task_id == row.id else None
    with st.expander(t("inbox.reveal_title"), expanded=shown is not None):
        if shown is not None:
            st.caption(t("inbox.revealed_note", field=t(f"inbox.pii_{shown.field.value}")))
            st.code(shown.value, language=None)
        st.selectbox(
            t("inbox.reveal_field"),
            fields,
            format_func=labels({f: t(f"inbox.pii_{f.value}") for f in fields}),
            key=f"reveal-field-{row.id}",
        )
        st.text_input(t("inbox.reveal_reason"), key=f"reveal-reason-{row.id}", max_chars=500)
        st.button(t("inbox.reveal"), key=f"reveal-{row.id}", on_click=_reveal, args=(row.id, row.account_id))


# --- click callbacks ------------------------------------------------------------------------------


def _close() -> None:
    st.session_state.pop(OPEN_KEY, None)


def _signed_in(task_id: int) -> str | None:
    user = current_user()
    if not user:
        outcomes.outcomes(OUTCOMES_KEY).add(task_id, "error", t("inbox.signed_out", task=task_id))
        return None
    return user


def _queue_step(task_id: int, step: Callable[[Any, str, Collection[str], datetime], object], done: str) -> None:
    user, roles = _signed_in(task_id), current_roles()
    if user is None:
        return
    try:
        with session_scope(queries.database_url()) as session:
            step(session, user, roles, datetime.now(UTC))
    except rules.Refused as exc:
        outcomes.outcomes(OUTCOMES_KEY).add(task_id, "warning", refusal_text(exc))
        return
    outcomes.outcomes(OUTCOMES_KEY).add(task_id, "success", done)


def _claim(task_id: int) -> None:
    _queue_step(
        task_id,
        lambda s, user, roles, now: queue.claim(s, task_id, user, roles, now),
        t("inbox.claimed", task=task_id),
    )


def _release(task_id: int) -> None:
    _queue_step(
        task_id,
        lambda s, user, roles, now: queue.release(s, task_id, user, roles, now),
        t("inbox.released", task=task_id),
    )


def _assign(task_id: int) -> None:
    assignee = str(st.session_state.get(f"assignee-{task_id}", "")).strip()
    _queue_step(
        task_id,
        lambda s, user, roles, now: queue.assign(s, task_id, assignee, user, roles, now),
        t("inbox.assigned", task=task_id, assignee=md(assignee)),
    )


def _info_received(task_id: int) -> None:
    _queue_step(
        task_id,
        lambda s, user, roles, now: queue.info_received(s, task_id, user, roles, now),
        t("inbox.info_received_done", task=task_id),
    )


def _comment(task_id: int) -> None:
    text = str(st.session_state.get(f"comment-{task_id}", ""))
    _queue_step(
        task_id,
        lambda s, user, roles, now: queue.comment(s, task_id, text, user, now),
        t("inbox.commented", task=task_id),
    )
    st.session_state[f"comment-{task_id}"] = ""


def _attach(task_id: int) -> None:
    upload = st.session_state.get(f"upload-{task_id}")
    note = str(st.session_state.get(f"upload-note-{task_id}", ""))
    if upload is None:
        outcomes.outcomes(OUTCOMES_KEY).add(task_id, "error", t("inbox.no_file", task=task_id))
        return
    name, kind, content = upload.name, upload.type or "", upload.getvalue()
    vault = get_runtime(queries.database_url()).vault
    _queue_step(
        task_id,
        lambda s, user, roles, now: queue.attach(s, vault, task_id, name, kind, content, user, now, note),
        t("inbox.attached", task=task_id, file=md(name)),
    )


FOLLOW_UPS = {  # what a final decision set in motion, by kind and outcome (overdue/services/decisions.py HOOKS_OF)
    ("legal_escalation", rules.REJECTED): "renegotiate",
    ("offer_approval", rules.REJECTED): "renegotiate",
    ("dispute_review", rules.APPROVED): "dispute_verified",
    ("dispute_review", rules.REJECTED): "dispute_upheld",
    ("hardship_review", rules.APPROVED): "hardship_forbearance",
    ("hardship_review", rules.REJECTED): "hardship_declined",
    ("complaint", rules.APPROVED): "complaint_resolved",
    ("complaint", rules.REJECTED): "complaint_resolved",
}


def _decide(task_id: int, version: int, kind: str, decision: str) -> None:
    """Runs before the rerun the click causes, with the id and version that were displayed."""
    box = outcomes.outcomes(OUTCOMES_KEY)
    user, roles = _signed_in(task_id), current_roles()
    reason = str(st.session_state.get(f"reason-{task_id}", "")).strip()
    if user is None:
        return
    if not reason:
        box.add(task_id, "error", t("inbox.reason_required", task=task_id))
        return
    texts = {  # every `st` access before the write: after the commit nothing may interrupt the report
        key: t(f"inbox.{key}", task=task_id, user=md(user), done="{done}")
        for key in ("decided_approved", "decided_rejected", "decided_info_requested", "first_approval")
    }
    follow_ups = {
        key: t(f"inbox.{key}", case="{case}")
        for key in ("letter_now", "letter_started", "letter_deferred", *FOLLOW_UPS.values())
    }
    try:
        done = decide(queries.database_url(), task_id, version, decision, reason, user, roles, datetime.now(UTC))
    except DecisionError as exc:
        box.add(task_id, "warning", refusal_text(exc))
        return
    if done.status == rules.OPEN:
        box.add(task_id, "success", texts["first_approval"].format(done=done.approvals))
        return
    message = texts[f"decided_{done.status}"]
    if done.case_id is not None:
        follow = {STARTED: "letter_started", DEFERRED: "letter_deferred"}.get(done.continuation or "", "letter_now")
        message += " " + follow_ups[follow].format(case=done.case_id)
    elif (kind, done.status) in FOLLOW_UPS:
        message += " " + follow_ups[FOLLOW_UPS[kind, done.status]]
    box.add(task_id, "success", message)


def _log_call(task_id: int, account_id: int) -> None:
    box = outcomes.outcomes(OUTCOMES_KEY)
    user = _signed_in(task_id)
    state = st.session_state
    promised_on = state.get(f"call-promised-on-{task_id}")
    amount = str(state.get(f"call-amount-{task_id}") or "").strip()
    documents = tuple(
        Document(f.name, f.type or "application/octet-stream", f.getvalue())
        for f in state.get(f"call-docs-{task_id}") or ()
    )
    outcome, right_party = str(state.get(f"call-outcome-{task_id}")), bool(state.get(f"call-rpc-{task_id}", True))
    note = str(state.get(f"call-note-{task_id}", ""))
    done, refused = t("inbox.call_logged", task=task_id), t("inbox.call_refused", task=task_id, why="{why}")
    bad_amount = t("inbox.call_bad_amount", amount=md(amount))
    if user is None:
        return
    url = queries.database_url()
    runtime = get_runtime(url)
    now = datetime.now(UTC)
    try:
        with session_scope(url) as session:
            account = session.get(Account, account_id)
            assert account is not None
            report = CallReport(
                account_id,
                now,
                outcome,
                note,
                right_party,
                promised_on,
                to_minor(amount, account.currency) if amount else None,
                documents,
            )
            logged = log_call(session, runtime, report, user, now)
            review = logged.review.id if logged.review else None
    except rules.Refused as exc:  # the conversation's, a hold's, the task queue's
        box.add(task_id, "error", refused.format(why=refusal_text(exc, phrase=True)))
        return
    except ValueError:  # the promised amount, unreadable in the account's currency
        box.add(task_id, "error", refused.format(why=bad_amount))
        return
    box.add(task_id, "success", done + (f" ({review})" if review else ""))


def _reveal(task_id: int, account_id: int) -> None:
    """The reveal is committed to the audit trail before the value goes into the session: an interrupted
    callback can leave a recorded reveal unshown, never a shown one unrecorded."""
    box = outcomes.outcomes(OUTCOMES_KEY)
    user = _signed_in(task_id)
    field = PersonalField(st.session_state[f"reveal-field-{task_id}"])
    reason = str(st.session_state.get(f"reveal-reason-{task_id}", ""))
    url = queries.database_url()
    if user is None:
        return
    try:
        with session_scope(url) as session:
            value = reveal(session, get_runtime(url).vault, account_id, field, user, reason, datetime.now(UTC))
    except RevealRefused as exc:
        box.add(task_id, "error", t("inbox.reveal_refused", task=task_id, why=refusal_text(exc, phrase=True)))
        return
    st.session_state[REVEALED_KEY] = Revealed(task_id, field, value)
    st.session_state[f"reveal-reason-{task_id}"] = ""  # the next reveal needs its own reason

"""Offer approvals: an offer outside the bounds, or a settlement above the thresholds, waits here for one
person, or two different ones above the second thresholds (maker-checker, configs/offers.yaml).

As on the escalations page, each form's buttons carry the task id and the version on screen into the click
callback, and `decide_task` writes conditionally: a colleague's earlier click becomes a message. The first of
two approvals leaves the task open for the second person; the person who made the offer cannot approve it.
Data is shown in tables and captions, never as markdown.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard import queries
from dashboard.identity import current_user
from overdue.domain.money import format_money
from overdue.services.decisions import DecisionError, decide_task
from overdue.store.db import session_scope

PAGE_SIZE = 20
LOCALE = "en-US"
OUTCOME_KEY = "offer_approvals_outcome"


def render() -> None:
    st.title("Offer approvals")
    st.caption("Offers outside the bounds, oldest first. Every decision needs a reason; nobody approves twice.")
    outcome = st.session_state.pop(OUTCOME_KEY, None)
    if outcome is not None:
        level, message = outcome
        (st.success if level == "success" else st.warning)(message)
    user = current_user()
    if not user:
        st.info("Enter your user id in the sidebar to approve or reject.", icon=":material/person:")
    with session_scope(queries.database_url()) as session:
        pending = queries.open_offer_approvals(session, limit=PAGE_SIZE)
    if not pending:
        st.success("No offer is waiting for approval.", icon=":material/done_all:")
    for item in pending:
        _offer_form(item, user)


def _offer_form(item: queries.PendingOffer, user: str) -> None:
    offer = item.offer
    currency = offer["currency"]

    def money(minor: int) -> str:
        return format_money(minor, currency, LOCALE)

    with st.form(key=f"offer-task-{item.task_id}", enter_to_submit=False):
        st.subheader(f"Task {item.task_id}: {offer['kind']} offer {offer['offer_id']}")
        approved = ", ".join(item.approvals) or "nobody yet"
        st.caption(
            f"Account {item.account_ref} ({item.jurisdiction}) · asked by {item.requested_by} · "
            f"approvals {len(item.approvals)} of {item.approvals_needed} (so far: {approved})"
        )
        st.table(
            [
                {"": "Why it needs approval", "terms": "; ".join(item.reasons)},
                {"": "Balance", "terms": money(offer["balance_minor"])},
                {"": "Total payable", "terms": money(offer["total_payable_minor"])},
                {"": "Written off when kept", "terms": money(offer["discount_minor"])},
                {"": "Interest", "terms": f"{offer['interest']}: {offer['interest_means']}"},
                {"": "Fees", "terms": f"{offer['fees']}: {offer['fees_means']}"},
                {"": "Expires", "terms": offer["expires_on"]},
            ],
            hide_index=True,
        )
        st.table(
            [
                {"#": seq, "due": due["due_date"], "amount": money(due["amount_minor"])}
                for seq, due in enumerate(offer["schedule"], 1)
            ],
            hide_index=True,
        )
        st.text_area("Reason", key=f"offer-reason-{item.task_id}", max_chars=1000, height=68)
        buttons = st.container(horizontal=True)
        for decision, label in (("approve", "Approve"), ("reject", "Reject")):
            buttons.form_submit_button(
                label,
                key=f"offer-{decision}-{item.task_id}",
                type="primary" if decision == "approve" else "secondary",
                disabled=not user,
                on_click=_decide,
                args=(item.task_id, item.version, decision),
            )


def _decide(task_id: int, version: int, decision: str) -> None:
    """Click callback, with the id and version that were displayed."""
    user = current_user()
    reason = str(st.session_state.get(f"offer-reason-{task_id}", "")).strip()
    if not user or not reason:
        st.session_state[OUTCOME_KEY] = ("warning", f"Task {task_id}: your user id and a reason are needed.")
        return
    try:
        with session_scope(queries.database_url()) as session:
            task = decide_task(session, task_id, version, decision, reason, user, datetime.now(UTC))
            status, approvals = task.status, len(task.payload.get("approvals", []))
    except DecisionError as exc:
        st.session_state[OUTCOME_KEY] = ("warning", f"Task {task_id}: {exc}")
        return
    if status == "open":
        message = f"Task {task_id}: approval {approvals} recorded; a second, different person must approve it."
    else:
        message = f"Task {task_id} {status} by {user}."
    st.session_state[OUTCOME_KEY] = ("success", message)

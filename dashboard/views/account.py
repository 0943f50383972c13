"""Account 360: one account as a person working it needs it, on one page.

The account comes from the search box or the `?account=ID` link other pages make. Personal data shows masked;
revealing a value takes a typed reason and the reveal is recorded in the audit trail before the value is shown,
and only in the run that click causes (overdue/services/personal_data.py). Long histories page in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from dashboard import access
from dashboard.i18n import fmt_date, fmt_datetime, fmt_money, t, term
from dashboard.identity import current_user
from dashboard.queries import database_url
from dashboard.ui import page_window, table
from overdue.runtime import get_runtime
from overdue.services import account_view
from overdue.services.personal_data import PersonalField, RevealRefused, reveal
from overdue.store.db import session_scope

LOOKUP = "account_lookup"
PARAM = "account"
REVEALED = "_account_revealed"
REVEAL_ERROR = "_account_reveal_error"
PAGE_SIZE = 20
TABS = ("timeline", "contacts", "plans", "payments", "tasks", "legal")
APPLIED = ("to_fees_minor", "to_interest_minor", "to_principal_minor")


@dataclass(frozen=True, slots=True)
class Revealed:
    account_id: int
    field: PersonalField
    value: str


def render() -> None:
    st.title(t("account.title"))
    revealed = st.session_state.pop(REVEALED, None)  # shown in this run only
    st.text_input(t("account.lookup"), key=LOOKUP, placeholder=t("account.lookup_hint"), on_change=_looked_up)
    wanted = str(st.query_params.get(PARAM, "")) or str(st.session_state.get(LOOKUP, ""))
    if not wanted.strip():
        st.info(t("account.pick"), icon=":material/search:")
        return
    with session_scope(database_url()) as session:
        account_id = account_view.find_account(session, wanted)
        profile = account_view.profile(session, account_id) if account_id is not None else None
    if profile is None:
        st.warning(t("account.not_found", text=wanted.strip()), icon=":material/search_off:")
        return
    _profile(profile, revealed if isinstance(revealed, Revealed) else None)
    tabs = st.tabs(
        [t(f"account.tab_{name}") for name in ("timeline", "contacts", "plans", "payments", "tasks", "legal")]
    )
    with tabs[0]:
        _timeline(profile.account_id, profile.currency)
    with tabs[1]:
        _contacts(profile.account_id)
    with tabs[2]:
        _plans(profile)
    with tabs[3]:
        _payments(profile.account_id)
    with tabs[4]:
        _tasks(profile.account_id)
    with tabs[5]:
        _legal(profile)


def _looked_up() -> None:
    """A new search replaces the account a link opened."""
    st.query_params.pop(PARAM, None)


def _profile(profile: account_view.Profile, revealed: Revealed | None) -> None:

    def money(minor: int) -> str:
        return fmt_money(minor, profile.currency)

    st.subheader(f"{profile.customer_name} · {profile.account_ref}")
    facts = [
        t("account.jurisdiction", value=profile.jurisdiction),
        t("account.language", value=profile.locale),
        t("account.time_zone", value=profile.time_zone),
        t("account.arm", value=profile.strategy_arm),
    ]
    if profile.vulnerability:
        facts.append(t("account.vulnerable", value=", ".join(profile.vulnerability)))
    st.caption(" · ".join(facts))
    columns = st.columns(4)
    columns[0].metric(t("account.balance"), money(profile.balance_minor))
    columns[1].metric(t("account.stage"), t(f"stages.{profile.stage}"))
    columns[2].metric(t("account.dpd"), profile.dpd)
    columns[3].metric(t("account.paid"), money(profile.paid_minor))
    parts = [
        t("account.principal", value=money(profile.principal_minor)),
        t("account.interest", value=money(profile.interest_minor)),
        t("account.fees", value=money(profile.fees_minor)),
        t("account.placed", value=money(profile.placed_balance_minor)),
        t("account.due", value=fmt_date(profile.due_date)),
    ]
    if profile.stage_entered_on:
        parts.append(t("account.stage_since", value=fmt_date(profile.stage_entered_on)))
    if profile.next_action_on:
        parts.append(t("account.next_action", value=fmt_date(profile.next_action_on)))
    st.markdown(" · ".join(parts))
    shown = [(field, getattr(profile.details, field.value)) for field in PersonalField]
    st.markdown(" · ".join(f"{t(f'account.field_{field.value}')} `{value}`" for field, value in shown if value))
    _reveal_panel(profile, [field for field, value in shown if value], revealed)


def _reveal_panel(profile: account_view.Profile, fields: list[PersonalField], revealed: Revealed | None) -> None:
    if not fields or not access.may("reveal_personal_data"):
        return
    shown = revealed if revealed is not None and revealed.account_id == profile.account_id else None
    with st.expander(t("account.reveal_title"), expanded=shown is not None):
        if error := st.session_state.pop(REVEAL_ERROR, None):
            st.error(error)
        if shown is not None:
            st.caption(t("account.revealed", field=t(f"account.field_{shown.field.value}")))
            st.code(shown.value, language=None)
        st.selectbox(
            t("account.reveal_field"),
            fields,
            format_func={field: t(f"account.field_{field.value}") for field in fields}.__getitem__,
            key="account_reveal_field",
        )
        st.text_input(t("account.reveal_reason"), key="account_reveal_reason", max_chars=500)
        st.button(t("account.reveal"), key="account_reveal", on_click=_reveal, args=(profile.account_id,))


def _reveal(account_id: int) -> None:
    """Click callback: the reveal is committed to the audit trail before the value enters the session."""
    user = current_user()
    field = PersonalField(st.session_state["account_reveal_field"])
    reason = str(st.session_state.get("account_reveal_reason", ""))
    if not user or not access.may("reveal_personal_data"):
        st.session_state[REVEAL_ERROR] = t("account.reveal_refused_role")
        return
    url = database_url()
    try:
        with session_scope(url) as session:
            value = reveal(session, get_runtime(url).vault, account_id, field, user, reason, datetime.now(UTC))
    except RevealRefused:
        st.session_state[REVEAL_ERROR] = t("account.reveal_refused")
        return
    st.session_state[REVEALED] = Revealed(account_id, field, value)
    st.session_state["account_reveal_reason"] = ""  # the next reveal needs its own reason


def _details(data: dict[str, Any], currency: str) -> str:
    """An event's facts; amounts (`..._minor`) as money rather than a count of cents."""
    return ", ".join(
        f"{key.removesuffix('_minor')}={_amount(value, currency) if key.endswith('_minor') else value}"
        for key, value in data.items()
        if key not in ("reason",)
    )


def _amount(value: Any, currency: str) -> str:
    return fmt_money(value, currency) if isinstance(value, int) else str(value)


def _timeline(account_id: int, currency: str) -> None:
    with session_scope(database_url()) as session:
        total = account_view.timeline(session, account_id, limit=0, offset=0)[0]
    limit, offset = page_window(total, PAGE_SIZE, "account_timeline_page")
    with session_scope(database_url()) as session:
        _, events = account_view.timeline(session, account_id, limit=limit, offset=offset)
    rows = [
        {
            "when": fmt_datetime(event["ts"]),
            "what": event["kind"],
            "who": event["actor"],
            "details": _details(event["data"], currency),
        }
        for event in events
    ]
    table(rows, ("when", "what", "who", "details"), "account")


def _contacts(account_id: int) -> None:
    with session_scope(database_url()) as session:
        total = account_view.contact_history(session, account_id, limit=0, offset=0)[0]
    limit, offset = page_window(total, PAGE_SIZE, "account_contacts_page")
    with session_scope(database_url()) as session:
        _, messages = account_view.contact_history(session, account_id, limit=limit, offset=offset)
        replies = account_view.replies_and_conversations(session, account_id, limit=PAGE_SIZE)
    st.caption(t("account.messages", total=total))
    rows = [
        {
            "when": fmt_datetime(message["sent_at"] or message["created_at"]),
            "channel": term(f"channels.{message['channel']}", message["channel"]),
            "template": message["template"],
            "status": term(f"message_status.{message['status']}", message["status"])
            + (f" ({message['delivery']})" if message["delivery"] else ""),
            "preview": ((message["subject"] + " · ") if message["subject"] else "") + message["preview"],
        }
        for message in messages
    ]
    table(rows, ("when", "channel", "template", "status", "preview"), "account")
    st.caption(t("account.replies"))
    table(
        [{**reply, "at": fmt_datetime(reply["at"])} for reply in replies],
        ("at", "channel", "outcome", "by", "preview"),
        "account",
    )


def _plans(profile: account_view.Profile) -> None:
    with session_scope(database_url()) as session:
        found = account_view.plans(session, profile.account_id)
    if not found:
        st.caption(t("common.none"))
    for plan, installments in found:
        st.markdown(
            t(
                "account.plan",
                id=plan["id"],
                status=term(f"plan_status.{plan['status']}", plan["status"]),
                total=fmt_money(plan["total_minor"], profile.currency),
                created=fmt_date(plan["created_on"]),
                grace=plan["grace_days"],
            )
        )
        rows = [
            {
                "seq": row["seq"],
                "due": fmt_date(row["due_date"]),
                "amount": fmt_money(row["amount_minor"], profile.currency),
                "paid_amount": fmt_money(row["paid_minor"], profile.currency),
            }
            for row in installments
        ]
        table(rows, ("seq", "due", "amount", "paid_amount"), "account")


def _payments(account_id: int) -> None:
    with session_scope(database_url()) as session:
        total = account_view.payments(session, account_id, limit=0, offset=0)[0]
    limit, offset = page_window(total, PAGE_SIZE, "account_payments_page")
    with session_scope(database_url()) as session:
        _, found = account_view.payments(session, account_id, limit=limit, offset=offset)
    rows = [
        {
            "received": fmt_date(row["received_on"]),
            "amount": fmt_money(row["amount_minor"], row["currency"]),
            "source": row["source"],
            "applied": " / ".join(
                fmt_money(row[part], row["currency"])
                for part in ("to_fees_minor", "to_interest_minor", "to_principal_minor")
            ),
        }
        for row in found
    ]
    table(rows, ("received", "amount", "source", "applied"), "account")


def _tasks(account_id: int) -> None:
    with session_scope(database_url()) as session:
        found = account_view.tasks(session, account_id)
    rows = [
        {
            "task": row["id"],
            "kind": term(f"inbox.kind_{row['kind']}", row["kind"]),
            "status": term(f"inbox.state_{row['status']}", row["status"]),
            "created": fmt_datetime(row["created_at"]),
            "due_at": fmt_datetime(row["due_at"]) if row["due_at"] else "",
            "decided_by": row["decided_by"] or "",
            "reason": row["reason"] or "",
        }
        for row in found
    ]
    table(rows, ("task", "kind", "status", "created", "due_at", "decided_by", "reason"), "account")


def _legal(profile: account_view.Profile) -> None:
    with session_scope(database_url()) as session:
        found = account_view.legal_cases(session, profile.account_id)
    rows = [
        {
            "case": row["id"],
            "status": row["status"],
            "opened": fmt_date(row["opened_on"]),
            "amount": fmt_money(row["balance_minor"], profile.currency),
            "approved_by": row["approved_by"],
        }
        for row in found
    ]
    table(rows, ("case", "status", "opened", "amount", "approved_by"), "account")

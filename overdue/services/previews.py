"""What a template sees for a real account today: the context `overdue templates preview --account` renders."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from overdue.channels.context import Sender, message_context
from overdue.config import Configuration
from overdue.domain.escalation import is_time_barred
from overdue.services.outreach import active_schedules, next_installment, open_offers
from overdue.services.validation_notices import itemization, payments_since, period_end
from overdue.store.tables import Account, Customer


class AccountNotFound(LookupError):
    pass


def account_context(
    session: Session, config: Configuration, sender: Sender, account_id: int, as_of: date
) -> tuple[Customer, Account, dict[str, Any]]:
    """The customer, the account and the full context: its open offer, its next installment and the
    validation itemization as a notice sent today would carry them (None where the account has none)."""
    account = session.get(Account, account_id)
    if account is None:
        raise AccountNotFound(f"no account {account_id}")
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    policy = config.policy(customer.jurisdiction)
    schedule = active_schedules(session, [account_id]).get(account_id)
    context = message_context(
        sender,
        customer,
        account,
        open_offers(session, [account_id]).get(account_id),
        next_installment(schedule) if schedule else None,
        time_barred=is_time_barred(account.due_date, as_of, policy.time_bar.years),
    )
    paid = payments_since(session, [(account_id, account.due_date)]).get(account_id, 0)
    validation = itemization(account, customer.locale, paid, period_end(policy, as_of))
    return customer, account, context | {"validation": validation}

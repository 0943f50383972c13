"""The design ARCHITECTURE.md decision 2 rules out, built so the cycle benchmark can measure against it: one
Prefect flow run per account, each doing that account's share of the daily cycle.

Built as well as that design allows: each flow calls the very service a shard task of the cycle calls
(`run_shard`) with a one-account shard, in one transaction, without the heartbeat thread (as the cycle runs);
flows run one after another, and the outbox is dispatched once at the end, not once per account.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from prefect import flow
from pydantic import SecretStr
from sqlmodel import col

from flows.simulation import in_process_flows
from overdue.runtime import get_runtime
from overdue.services.dispatch import dispatch_due
from overdue.services.shard_cycle import run_shard
from overdue.store.db import session_scope
from overdue.store.tables import Account


@flow(name="naive-account-cycle", flow_run_name="naive-{account_id}")
def account_cycle(database_url: SecretStr, as_of: date, now: datetime, account_id: int) -> dict[str, Any]:
    url = database_url.get_secret_value()
    runtime = get_runtime(url)
    with session_scope(url) as session:
        return run_shard(session, runtime, as_of, now, (account_id, account_id))


def spread_accounts(url: str, count: int) -> list[int]:
    """`count` account ids spread evenly over the portfolio, so the sample has its mix of stages."""
    with session_scope(url) as session:
        low, high = session.execute(sa.select(sa.func.min(col(Account.id)), sa.func.max(col(Account.id)))).one()
        if low is None:
            return []
        targets = sorted({low + (high - low) * n // max(count - 1, 1) for n in range(count)})
        first_at_or_after = sa.select(sa.func.min(col(Account.id))).where(col(Account.id) >= sa.bindparam("at"))
        return sorted({session.execute(first_at_or_after, {"at": at}).scalar_one() for at in targets})


def run_naive(url: str, as_of: date, now: datetime, accounts: list[int]) -> dict[str, Any]:
    """One flow run per account, then one outbox dispatch; the seconds of each part."""
    secret = SecretStr(url)
    with in_process_flows():
        started = time.perf_counter()
        for account_id in accounts:
            account_cycle(secret, as_of, now, account_id)
        flows_s = time.perf_counter() - started
        runtime = get_runtime(url)
        with session_scope(url) as session:
            dispatch_due(session, runtime.config, runtime.channel, now)
        total_s = time.perf_counter() - started
    return {"accounts": len(accounts), "total_s": total_s, "flows_s": flows_s, "dispatch_s": total_s - flows_s}

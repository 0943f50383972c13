"""The daily rollups the managers' page reads, on SQLite and PostgreSQL: what each figure counts, once per date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from overdue.domain.buckets import bucket_of, is_cure
from overdue.services.rollups import roll_up, roll_up_ended_days
from overdue.store.db import session_scope
from overdue.store.tables import Account, Conversation, CycleShard, Hold, MetricRollup, Payment, PaymentPlan
from tests.support import add_account, add_escalation_task, add_message

DAY1, DAY2 = date(2026, 3, 10), date(2026, 3, 11)
NOON2 = datetime(2026, 3, 11, 12, tzinfo=UTC)


def figures(session: Session, as_of: date) -> dict[tuple[str, str, str], tuple[int, int]]:
    rows = session.exec(select(MetricRollup).where(col(MetricRollup.as_of) == as_of)).all()
    return {(r.metric, r.key1, r.key2): (r.count, r.amount_minor) for r in rows if r.arm == "default"}


def promise_plan(account: Account, kind: str, status: str, ended_on: date) -> PaymentPlan:
    created = ended_on - timedelta(days=7)
    return PaymentPlan(
        account_id=account.id,  # type: ignore[arg-type]
        total_minor=10_000,
        grace_days=2,
        created_on=created,
        kind=kind,
        on_kept="review",
        created_by="agent.ann",
        status=status,
        ended_on=ended_on,
    )


def test_buckets_and_cures() -> None:
    assert [bucket_of(d, False) for d in (-3, 0, 1, 30, 31, 90, 91, 180, 181)] == [0, 0, 1, 1, 2, 3, 4, 5, 6]
    assert bucket_of(45, True) == 7
    assert is_cure(2, 0)
    assert is_cure(1, 7)
    assert not is_cure(0, 7)
    assert not is_cure(2, 3)


def test_a_day_rolled_up(database_url: str) -> None:
    with session_scope(database_url) as session:
        paid = add_account(session, "PAID", due_date=date(2026, 2, 20))  # 18 dpd on day 1, paid off on day 2
        rolling = add_account(session, "ROLL", due_date=date(2026, 2, 8))  # 30 dpd on day 1, 31 on day 2
        quiet = add_account(session, "QUIET", due_date=date(2026, 3, 20), currency="CNY", jurisdiction="CN")
        for account in (paid, rolling, quiet):
            account.dpd = (DAY1 - account.due_date).days
            account.stage = "reminder" if account.dpd > 0 else "current"
        task = add_escalation_task(session, rolling, created_at=NOON2 - timedelta(days=4), sla=timedelta(hours=24))
        assert task.id is not None
    with session_scope(database_url) as session:
        assert roll_up(session, DAY1) is not None

    with session_scope(database_url) as session:
        for account in session.exec(select(Account)):
            account.dpd = (DAY2 - account.due_date).days
            if account.external_ref == "A-PAID":
                account.stage, account.principal_minor, account.interest_minor, account.fees_minor = "closed", 0, 0, 0
            elif account.external_ref == "A-ROLL":
                account.stage = "negotiation"
            session.add(account)
        session.add(
            Payment(
                payment_ref="p1",
                account_id=paid.id,  # type: ignore[arg-type]
                amount_minor=107_500,
                currency="USD",
                received_on=DAY2,
                source="import",
                created_at=NOON2,
            )
        )
        add_message(session, rolling, NOON2, status="sent", sent_at=NOON2, channel="voice", delivery="delivered")
        session.add(
            Conversation(
                account_id=rolling.id,  # type: ignore[arg-type]
                channel="voice",
                at=NOON2,
                outcome="refused",
                recorded_by="agent.ann",
                created_at=NOON2,
            )
        )
        session.add(Hold(account_id=quiet.id, kind="complaint", starts_on=DAY2, created_by="agent.ann"))  # type: ignore[arg-type]
        for status, ended_on, kind in [
            ("kept", DAY2, "promise"),
            ("broken", DAY2, "promise"),
            ("kept", DAY1, "promise"),
        ]:
            session.add(promise_plan(rolling, kind, status, ended_on))
        session.add(promise_plan(quiet, "installment", "broken", DAY2))  # a plan, not a promise
    with session_scope(database_url) as session:
        written = roll_up(session, DAY2)
        assert written is not None
        day2 = figures(session, DAY2)

    assert day2[("stage", "closed", "")] == (1, 0)
    assert day2[("stage", "negotiation", "")] == (1, 0)
    assert day2[("roll", "1-30", "closed")] == (1, 0)
    assert day2[("roll", "1-30", "31-60")] == (1, 0)
    assert day2[("roll", "current", "current")] == (1, 0)
    assert day2[("cure", "cured", "")] == (1, 0)
    assert day2[("cure", "self_cured", "")] == (1, 0), "the paid account was never sent anything"
    assert day2[("cohort_paid", "2026-02", "USD")] == (0, 107_500)
    assert day2[("cohort_placed", "2026-02", "USD")] == (2, 215_000)
    assert day2[("cohort_outstanding", "2026-02", "USD")] == (0, 107_500)
    assert day2[("cohort_placed", "2026-03", "CNY")] == (1, 107_500)
    assert day2[("channel", "voice", "sent")] == (1, 0)
    assert day2[("channel", "voice", "delivered")] == (1, 0)
    assert day2[("contact", "attempts", "")] == (1, 0)
    assert day2[("contact", "rpc", "")] == (1, 0)
    assert day2[("holds", "complaint", "")] == (1, 0)
    assert day2[("ptp", "ended", "")] == (2, 0)
    assert day2[("ptp", "kept", "")] == (1, 0)
    assert day2[("tasks", "legal_escalation", "open")] == (1, 0)
    assert day2[("tasks", "legal_escalation", "past_sla")] == (1, 0)


def test_once_per_date_and_only_when_the_shards_are_done(database_url: str) -> None:
    with session_scope(database_url) as session:
        add_account(session, "ONE", due_date=DAY1)
        session.add(CycleShard(as_of=DAY1, low=1, high=10, status="pending"))
    with session_scope(database_url) as session:
        assert roll_up(session, DAY1) is None, "a worker is still on a shard: the last one to finish rolls up"
        session.execute(sa.update(CycleShard).values(status="done"))
    with session_scope(database_url) as session:
        assert roll_up(session, DAY1)
    with session_scope(database_url) as session:
        assert roll_up(session, DAY1) is None
        markers = session.scalar(sa.select(sa.func.count()).where(col(MetricRollup.metric) == "rolled_up"))
    assert markers == 1


def test_each_cycle_rolls_up_the_days_that_have_ended(database_url: str) -> None:
    """A day's figures are complete only once it is over (payments come in after its cycle ran), so the cycle
    for a date rolls up the days before it: yesterday the first time, then every day since the last one rolled
    up, stopping at a day whose shards are still running."""

    def rolled(session: Session) -> list[date]:
        query = sa.select(col(MetricRollup.as_of)).where(col(MetricRollup.metric) == "rolled_up")
        return sorted(session.scalars(query))

    day3, day5 = DAY1 + timedelta(days=2), DAY1 + timedelta(days=4)
    with session_scope(database_url) as session:
        add_account(session, "ONE", due_date=DAY1)
    with session_scope(database_url) as session:
        assert roll_up_ended_days(session, DAY2) > 0
        assert rolled(session) == [DAY1]
        session.add(CycleShard(as_of=day3, low=1, high=10, status="pending"))
    with session_scope(database_url) as session:
        roll_up_ended_days(session, DAY1 + timedelta(days=5))  # two days missed; the third still running
        assert rolled(session) == [DAY1, DAY2], "stops at the day whose shards are not done"
        session.execute(sa.update(CycleShard).values(status="done"))
    with session_scope(database_url) as session:
        roll_up_ended_days(session, DAY1 + timedelta(days=5))
        assert rolled(session) == [DAY1, DAY2, day3, DAY1 + timedelta(days=3), day5]
        assert roll_up_ended_days(session, DAY1 + timedelta(days=5)) == 0, "a rerun of the date adds nothing"

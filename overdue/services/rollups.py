"""The daily rollups the managers' page reads: one set-based pass per day, once the day is over.

`roll_up(session, as_of)` writes that date's rows in `metricrollup` once, with figures per strategy arm; the
daily cycle calls it (`roll_up_ended_days`) for the days that have ended, at its start. Snapshots describe the
portfolio at the end of the date; flows count what happened during it (the UTC day). Metrics, with key1 / key2,
and what count / amount_minor hold:

- `stage` stage: accounts in it.
- `roll` DPD bucket yesterday / DPD bucket today: accounts (buckets: overdue/domain/buckets.py).
- `cure` `cured` / `self_cured`: accounts from a past-due bucket to current or closed; self: never sent anything.
- `cohort_placed`, `cohort_outstanding`, `cohort_paid` month of the due date / currency: accounts and balance
  placed, balance outstanding at the end of the day, payments received during it.
- `ptp` `ended` / `kept`: promises to pay (promise plans, whichever way they were made) kept or broken today /
  of which kept.
- `contact` `attempts` / `rpc`: calls made / telephone conversations logged (right-party contacts).
- `channel` channel / `sent`, `delivered`, `paid_7d`: messages sent, reported delivered, and sent 7 days earlier
  to an account that has paid since.
- `holds` hold kind: holds placed (disputes, complaints, ...).
- `tasks` task kind / `open`, `past_sla`, `decided`, `decided_in_sla`: the backlog at the end of the day and the
  decisions made during it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from overdue.domain.buckets import CLOSED_BUCKET, DELINQUENT, DPD_BUCKETS, LABELS
from overdue.domain.plans import BROKEN, KEPT, PROMISE
from overdue.domain.stages import CLOSED
from overdue.services.condition_sql import BALANCE
from overdue.store.bulk import insert_rows
from overdue.store.tables import (
    Account,
    Conversation,
    CycleShard,
    DpdSnapshot,
    Hold,
    HumanTask,
    MetricRollup,
    OutreachMessage,
    Payment,
    PaymentPlan,
)

Key = tuple[str, str, str, str]  # metric, arm, key1, key2
ARM = col(Account.strategy_arm)
PAID_WITHIN_DAYS = 7
MARKER = "rolled_up"  # one row per date: the date is done


def bucket_sql() -> sa.ColumnElement[int]:
    """overdue.domain.buckets.bucket_of in SQL, so a million accounts are bucketed by the database."""
    whens: list[tuple[Any, int]] = [(col(Account.stage) == CLOSED, CLOSED_BUCKET)]
    for code, _, _, high in DPD_BUCKETS:
        if high is not None:
            whens.append((col(Account.dpd) <= high, code))
    return sa.case(*whens, else_=DPD_BUCKETS[-1][0])


class _Figures:
    def __init__(self) -> None:
        self.counts: Counter[Key] = Counter()
        self.amounts: Counter[Key] = Counter()

    def add(self, key: Key, count: int = 0, amount: int = 0) -> None:
        self.counts[key] += int(count or 0)
        self.amounts[key] += int(amount or 0)

    def rows(self, as_of: date) -> list[dict[str, Any]]:
        keys = set(self.counts) | set(self.amounts)
        return [
            {
                "metric": metric,
                "as_of": as_of,
                "arm": arm,
                "key1": key1,
                "key2": key2,
                "count": self.counts[(metric, arm, key1, key2)],
                "amount_minor": self.amounts[(metric, arm, key1, key2)],
            }
            for metric, arm, key1, key2 in sorted(keys)
        ]


def _day(as_of: date) -> tuple[datetime, datetime]:
    start = datetime.combine(as_of, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def roll_up(session: Session, as_of: date) -> int | None:
    """Write `as_of`'s rollup rows once the date's shards are all done; returns how many, or None when another
    worker's shards are still running (the last worker to finish rolls up) or the date was rolled up already.

    Once per date, because the roll-rate matrix moves each account's snapshot bucket to today: a second pass
    would compare today with today. Workers finishing together serialise on a lock and the second finds the
    date's marker row.
    """
    _lock(session)
    pending = sa.select(col(CycleShard.id)).where(col(CycleShard.as_of) == as_of, col(CycleShard.status) != "done")
    done = sa.select(col(MetricRollup.id)).where(col(MetricRollup.metric) == MARKER, col(MetricRollup.as_of) == as_of)
    if session.execute(pending.limit(1)).first() or session.execute(done).first():
        return None
    figures = _Figures()
    figures.add((MARKER, "", "", ""), 1)
    _snapshot(session, figures)
    _rolls(session, as_of, figures)
    _flows(session, as_of, figures)
    rows = figures.rows(as_of)
    insert_rows(session, MetricRollup, rows)
    return len(rows)


def _lock(session: Session) -> None:
    """One rollup at a time: an advisory lock on PostgreSQL; on SQLite a write statement takes the database's
    write lock for the rest of the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('overdue.rollup'))"))
    else:
        session.execute(sa.update(MetricRollup).where(sa.false()).values(count=0))


CATCH_UP_DAYS = 31  # a cycle rolls up at most this many ended days it finds not rolled up


def roll_up_ended_days(session: Session, today: date) -> int:
    """What the daily cycle for `today` does first (after the payment files, before its shards): roll up the
    days that have ended, from the day after the last one rolled up (at most CATCH_UP_DAYS back) to yesterday.
    A day is complete only once it is over: the payments received, messages sent and decisions made during it
    happen after that date's own cycle ran. Stops at a day whose shards are still running (its last worker's
    next cycle takes it up)."""
    yesterday = today - timedelta(days=1)
    last_rolled = session.scalar(
        sa.select(sa.func.max(col(MetricRollup.as_of))).where(col(MetricRollup.metric) == MARKER)
    )
    first = (
        max(last_rolled + timedelta(days=1), yesterday - timedelta(days=CATCH_UP_DAYS - 1))
        if last_rolled
        else yesterday
    )
    written, day = 0, first
    while day <= yesterday:
        rows = roll_up(session, day)
        if rows is None:
            break
        written += rows
        session.commit()
        day += timedelta(days=1)
    return written


def roll_up_range(session: Session, first: date, last: date) -> int:
    """Backfill: every date not rolled up yet, in order (each date's roll starts from the day before's
    buckets), one transaction each."""
    written, day = 0, first
    while day <= last:
        written += roll_up(session, day) or 0
        session.commit()
        day += timedelta(days=1)
    return written


def _snapshot(session: Session, figures: _Figures) -> None:
    """Stages, and cohorts (month of the due date) with their placed and outstanding balances."""
    for arm, stage, count in session.execute(
        sa.select(ARM, col(Account.stage), sa.func.count()).group_by(ARM, col(Account.stage))
    ):
        figures.add(("stage", arm, stage, ""), count)
    query = sa.select(
        ARM,
        col(Account.due_date),
        col(Account.currency),
        sa.func.count(),
        sa.func.sum(col(Account.placed_balance_minor)),
        sa.func.sum(BALANCE),
    ).group_by(ARM, col(Account.due_date), col(Account.currency))
    for arm, due, currency, count, placed, outstanding in session.execute(query):
        cohort = due.strftime("%Y-%m")
        figures.add(("cohort_placed", arm, cohort, currency), count, placed)
        figures.add(("cohort_outstanding", arm, cohort, currency), 0, outstanding)


def _rolls(session: Session, as_of: date, figures: _Figures) -> None:
    """Yesterday's bucket (the snapshot) against today's, then the snapshot moves to today. Cures are counted
    here too; a self-cure is a cure of an account we never sent anything."""
    now = bucket_sql().label("now")
    before = col(DpdSnapshot.bucket)
    pairs = (
        sa.select(ARM, before, now, sa.func.count())
        .select_from(Account)
        .join(DpdSnapshot, col(DpdSnapshot.account_id) == col(Account.id))
        .group_by(ARM, before, now)
    )
    for arm, from_bucket, to_bucket, count in session.execute(pairs):
        figures.add(("roll", arm, LABELS[from_bucket], LABELS[to_bucket]), count)
    contacted = sa.exists().where(
        col(OutreachMessage.account_id) == col(Account.id), col(OutreachMessage.sent_at).is_not(None)
    )
    cures = (
        sa.select(ARM, sa.func.count(), sa.func.sum(sa.case((~contacted, 1), else_=0)))
        .select_from(Account)
        .join(DpdSnapshot, col(DpdSnapshot.account_id) == col(Account.id))
        .where(before.in_(sorted(DELINQUENT)), now.in_([0, CLOSED_BUCKET]))
        .group_by(ARM)
    )
    for arm, cured, self_cured in session.execute(cures):
        figures.add(("cure", arm, "cured", ""), cured)
        figures.add(("cure", arm, "self_cured", ""), self_cured)
    _move_snapshot(session, as_of)


def _move_snapshot(session: Session, as_of: date) -> None:
    """Every account's snapshot becomes today's bucket in one upsert; a row whose bucket is unchanged is not
    rewritten. (An INSERT ... WHERE NOT EXISTS on the same table, as this once was, made PostgreSQL's planner
    scan the table it was filling once per account on its first day: 90 s for 100,000 accounts.)"""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    today = sa.select(col(Account.id), bucket_sql(), sa.literal(as_of, sa.Date)).where(sa.true())  # SQLite's
    # upsert needs the SELECT to have a WHERE clause, or ON CONFLICT would parse as part of a join
    insert = dialect.insert(DpdSnapshot).from_select(["account_id", "bucket", "as_of"], today)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[DpdSnapshot.account_id],
            set_={"bucket": insert.excluded.bucket, "as_of": insert.excluded.as_of},
            where=col(DpdSnapshot.bucket) != insert.excluded.bucket,
        )
    )


def _flows(session: Session, as_of: date, figures: _Figures) -> None:
    start, end = _day(as_of)
    paid = (
        sa.select(ARM, col(Account.due_date), col(Payment.currency), sa.func.sum(col(Payment.amount_minor)))
        .select_from(Payment)
        .join(Account, col(Account.id) == col(Payment.account_id))
        .where(col(Payment.received_on) == as_of)
        .group_by(ARM, col(Account.due_date), col(Payment.currency))
    )
    for arm, due, currency, amount in session.execute(paid):
        figures.add(("cohort_paid", arm, due.strftime("%Y-%m"), currency), 0, amount)

    promises = (
        sa.select(ARM, col(PaymentPlan.status), sa.func.count())
        .select_from(PaymentPlan)
        .join(Account, col(Account.id) == col(PaymentPlan.account_id))
        .where(
            col(PaymentPlan.kind) == PROMISE,
            col(PaymentPlan.ended_on) == as_of,
            col(PaymentPlan.status).in_([KEPT, BROKEN]),
        )
        .group_by(ARM, col(PaymentPlan.status))
    )
    for arm, status, count in session.execute(promises):
        figures.add(("ptp", arm, "ended", ""), count)
        if status == KEPT:
            figures.add(("ptp", arm, "kept", ""), count)

    sent_today = (col(OutreachMessage.sent_at) >= start) & (col(OutreachMessage.sent_at) < end)
    channel = col(OutreachMessage.channel)
    delivered = sa.case((col(OutreachMessage.delivery) == "delivered", 1), else_=0)
    sends = (
        sa.select(ARM, channel, sa.func.count(), sa.func.sum(delivered))
        .select_from(OutreachMessage)
        .join(Account, col(Account.id) == col(OutreachMessage.account_id))
        .where(sent_today)
        .group_by(ARM, channel)
    )
    for arm, name, sent, delivered_count in session.execute(sends):
        figures.add(("channel", arm, name, "sent"), sent)
        figures.add(("channel", arm, name, "delivered"), delivered_count)
        if name == "voice":
            figures.add(("contact", arm, "attempts", ""), sent)
    earlier = start - timedelta(days=PAID_WITHIN_DAYS)
    paid_after = sa.exists().where(
        col(Payment.account_id) == col(OutreachMessage.account_id),
        col(Payment.received_on) >= sa.func.date(col(OutreachMessage.sent_at)),
        col(Payment.received_on) <= as_of,
    )
    converted = (
        sa.select(ARM, channel, sa.func.count())
        .select_from(OutreachMessage)
        .join(Account, col(Account.id) == col(OutreachMessage.account_id))
        .where(
            col(OutreachMessage.sent_at) >= earlier,
            col(OutreachMessage.sent_at) < earlier + timedelta(days=1),
            paid_after,
        )
        .group_by(ARM, channel)
    )
    for arm, name, count in session.execute(converted):
        figures.add(("channel", arm, name, "paid_7d"), count)

    talks = (
        sa.select(ARM, sa.func.count())
        .select_from(Conversation)
        .join(Account, col(Account.id) == col(Conversation.account_id))
        .where(col(Conversation.channel) == "voice", col(Conversation.at) >= start, col(Conversation.at) < end)
        .group_by(ARM)
    )
    for arm, count in session.execute(talks):
        figures.add(("contact", arm, "rpc", ""), count)

    holds = (
        sa.select(ARM, col(Hold.kind), sa.func.count())
        .select_from(Hold)
        .join(Account, col(Account.id) == col(Hold.account_id))
        .where(col(Hold.starts_on) == as_of)
        .group_by(ARM, col(Hold.kind))
    )
    for arm, kind, count in session.execute(holds):
        figures.add(("holds", arm, kind, ""), count)

    _tasks(session, start, end, figures)


def _tasks(session: Session, start: datetime, end: datetime, figures: _Figures) -> None:
    kind = col(HumanTask.kind)
    past_sla = sa.case((col(HumanTask.due_at) < end, 1), else_=0)
    backlog = (
        sa.select(ARM, kind, sa.func.count(), sa.func.sum(past_sla))
        .select_from(HumanTask)
        .join(Account, col(Account.id) == col(HumanTask.account_id))
        .where(col(HumanTask.status) == "open")
        .group_by(ARM, kind)
    )
    for arm, name, count, late in session.execute(backlog):
        figures.add(("tasks", arm, name, "open"), count)
        figures.add(("tasks", arm, name, "past_sla"), late)
    in_sla = sa.case(
        (col(HumanTask.due_at).is_(None) | (col(HumanTask.decided_at) <= col(HumanTask.due_at)), 1), else_=0
    )
    decided = (
        sa.select(ARM, kind, sa.func.count(), sa.func.sum(in_sla))
        .select_from(HumanTask)
        .join(Account, col(Account.id) == col(HumanTask.account_id))
        .where(col(HumanTask.decided_at) >= start, col(HumanTask.decided_at) < end)
        .group_by(ARM, kind)
    )
    for arm, name, count, on_time in session.execute(decided):
        figures.add(("tasks", arm, name, "decided"), count)
        figures.add(("tasks", arm, name, "decided_in_sla"), on_time)

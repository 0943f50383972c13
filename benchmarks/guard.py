"""`guard`: what the contact guard costs, measured per shard and projected to the product's scale (a million
accounts in one daily cycle), because the guard must run in batch inside the cycle without breaking its targets.

Three measurements, each the median of several runs:
- `check_contact` alone, over realistic facts built in memory (US and CN policies from configs/);
- `load_facts` for one whole shard, on SQLite and on PostgreSQL, over a synthetic portfolio with eight days
  of contact history, a few holds and telephone conversations;
- the reminder stage's `plan_outreach` and one `dispatch_due` tick over that shard, split into the time spent
  loading facts and in the guard proper (building each message's facts, `check_contact`).
Every database run uses a fresh session and rolls back, so every run sees the same data.
"""

from __future__ import annotations

import math
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from unittest import mock

import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, col

from benchmarks.machine import describe
from benchmarks.postgres import PG_URL, fresh_postgres, unreachable
from overdue.config import Configuration, load_configuration
from overdue.config.models import Policy
from overdue.domain.guard import COLLECTION, PLAN, VALIDATION, Attempt, ContactFacts, Proposal, check_contact
from overdue.runtime import Runtime, build_runtime
from overdue.services import locate, outreach, validation_notices
from overdue.services.contact_guard import HISTORY_DAYS, FactsBook, load_facts
from overdue.services.cycle import classify_accounts
from overdue.services.dispatch import dispatch_due
from overdue.settings import PROJECT_ROOT, Settings
from overdue.sim.portfolio import CN_ZONES, US_ZONES, PortfolioSpec, generate_portfolio
from overdue.store.bulk import account_shards, insert_rows
from overdue.store.db import get_engine, session_scope
from overdue.store.migrate import upgrade
from overdue.store.sealed import new_key
from overdue.store.tables import Account, Conversation, Customer, Hold, OutreachMessage

SCALE = 1_000_000  # accounts in one daily cycle: the product's scale target
AS_OF = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, tzinfo=UTC)  # the daily cycle plans at midnight UTC
DISPATCH_AT = NOW + timedelta(hours=23, minutes=59)  # late enough for every message planned today to be due
CHANNELS = ("sms", "email", "voice", "letter")
P = ParamSpec("P")
R = TypeVar("R")


def guard_cases(config: Configuration, count: int, seed: int = 7) -> list[tuple[Proposal, ContactFacts, Policy]]:
    """Facts as `load_facts` builds them (mixed zones, 0-12 recent attempts, a few holds, opt-outs, ...) and
    proposals at any time of day, as dispatch ticks make them: every rule is evaluated whether or not one blocks."""
    rng = random.Random(seed)
    cases = []
    for n in range(count):
        us = rng.random() < 0.55
        attempts = tuple(
            Attempt(
                NOW - timedelta(minutes=rng.randint(1, HISTORY_DAYS * 24 * 60)),
                rng.choice(CHANNELS),
                n if rng.random() < 0.8 else n + 1,  # some attempts were about the customer's other debt
                VALIDATION if us and rng.random() < 0.1 else COLLECTION,
            )
            for _ in range(rng.randint(0, 12))
        )
        first = NOW - timedelta(days=rng.randint(1, 40)) if us else None
        facts = ContactFacts(
            account_id=n,
            time_zone=rng.choice(US_ZONES if us else CN_ZONES),
            holds=frozenset({"dispute"}) if rng.random() < 0.02 else frozenset(),
            opted_out=frozenset({"sms"}) if rng.random() < 0.05 else frozenset(),
            consented=frozenset(CHANNELS if rng.random() < 0.9 else ("email", "letter")),
            vulnerable=rng.random() < 0.03,
            plan_active=rng.random() < 0.05,
            collection_contacts=rng.randint(0, 20),
            attempts=attempts,
            last_conversation_at=NOW - timedelta(days=rng.randint(0, 10)) if rng.random() < 0.1 else None,
            first_collection_at=first,
            validation_sent_at=first + timedelta(days=rng.randint(0, 7)) if first and rng.random() < 0.8 else None,
        )
        at = NOW + timedelta(minutes=rng.randint(0, 24 * 60 - 1))
        proposal = Proposal(rng.choice(CHANNELS), at, PLAN if rng.random() < 0.1 else COLLECTION)
        cases.append((proposal, facts, config.policy("US" if us else "CN")))
    return cases


def bench_checks(config: Configuration, count: int, runs: int) -> dict[str, float]:
    cases = guard_cases(config, count)
    blocked = sum(1 for case in cases if not check_contact(*case).allowed)
    per_check = []
    for run in range(runs):
        started = time.perf_counter()
        for proposal, facts, policy in cases:
            check_contact(proposal, facts, policy)
        per_check.append((time.perf_counter() - started) / count)
        print(f"check_contact run {run + 1}: {per_check[-1] * 1e6:.2f} µs per check over {count:,} proposals")
    return {"median_us": statistics.median(per_check) * 1e6, "checks": count, "blocked_share": blocked / count}


class Split:
    """Time spent in `load_facts` and in the guard proper, by wrapping them where the services call them."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def timed(self, key: str, function: Callable[P, R]) -> Callable[P, R]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - started
                self.calls[key] += 1

        return wrapper

    @contextmanager
    def patched(self) -> Iterator[Split]:
        with ExitStack() as stack:
            stack.enter_context(mock.patch.object(outreach, "load_facts", self.timed("load_facts", load_facts)))
            for module in (outreach, locate, validation_notices):
                stack.enter_context(mock.patch.object(module, "check_contact", self.timed("check", check_contact)))
            stack.enter_context(mock.patch.object(FactsBook, "facts", self.timed("facts", FactsBook.facts)))
            yield self


def seed(url: str, runtime: Runtime, accounts: int) -> tuple[int, int]:
    """A portfolio in the stages the cycle gives it, with eight days of contact history. Its first shard is the
    one measured; more accounts than a shard only make the tables larger, as a real portfolio's are."""
    rng = random.Random(7)
    with session_scope(url) as session:
        generate_portfolio(session, PortfolioSpec(accounts, seed=7, start=AS_OF), runtime.vault)
        shards = account_shards(session, runtime.settings.shard_size)
        for shard in shards:
            classify_accounts(session, runtime.config, AS_OF, NOW, shard)
        rows = session.execute(
            sa.select(col(Account.id), col(Account.customer_id), col(Customer.jurisdiction)).join(
                Customer, col(Customer.id) == col(Account.customer_id)
            )
        ).all()
        messages, holds, talks = [], [], []
        for account_id, customer_id, jurisdiction in rows:
            for k in range(rng.choice((3, 4))):
                at = NOW - timedelta(minutes=rng.randint(1, HISTORY_DAYS * 24 * 60))
                notice = jurisdiction == "US" and k == 0 and rng.random() < 0.8
                channel = "letter" if notice else rng.choice(CHANNELS)
                messages.append(
                    {
                        "idempotency_key": f"bench:{account_id}:{k}",
                        "account_id": account_id,
                        "customer_id": customer_id,
                        "channel": channel,
                        "address": "bench",
                        "template": "bench",
                        "locale": "en-US",
                        "stage": "reminder",
                        "step": "bench",
                        "purpose": VALIDATION if notice else COLLECTION,
                        "subject": None,
                        "body": "",
                        "status": "sent",
                        "send_at": at,
                        "sent_at": at,
                        "created_at": at,
                    }
                )
            if rng.random() < 0.02:
                holds.append(
                    {
                        "account_id": account_id,
                        "kind": rng.choice(("dispute", "hardship")),
                        "reason": "",
                        "starts_on": AS_OF - timedelta(days=3),
                        "ends_on": None,
                        "created_by": "bench",
                        "placed_at": NOW - timedelta(days=3),
                    }
                )
            if rng.random() < 0.05:
                at = NOW - timedelta(minutes=rng.randint(1, 10 * 24 * 60))
                talks.append(
                    {
                        "account_id": account_id,
                        "channel": "voice",
                        "at": at,
                        "outcome": "promise_to_pay",
                        "note": "",
                        "recorded_by": "bench",
                        "created_at": at,
                    }
                )
        insert_rows(session, OutreachMessage, messages)
        insert_rows(session, Hold, holds)
        insert_rows(session, Conversation, talks)
    if get_engine(url).dialect.name == "postgresql":
        with get_engine(url).begin() as connection:
            connection.execute(sa.text("ANALYZE"))  # as autovacuum would have by the time the cycle runs
    return shards[0]


def bench_store(url: str, accounts: int, runs: int) -> dict[str, Any]:
    """Per-shard figures on one database: load_facts, then plan_outreach (reminder) and a dispatch tick."""
    upgrade(url)
    runtime = build_runtime(Settings(database_url=url, data_keys=SecretStr(new_key())), url)
    shard = seed(url, runtime, accounts)
    engine = get_engine(url)
    with Session(engine) as session:
        in_stage = sa.select(sa.func.count(col(Account.id))).where(
            col(Account.id).between(*shard), col(Account.stage) == "reminder"
        )
        counts = {"shard_accounts": shard[1] - shard[0] + 1, "reminder_accounts": session.scalar(in_stage) or 0}
    samples: dict[str, list[float]] = defaultdict(list)
    for run in range(runs):
        with Session(engine) as session:
            rows = session.execute(
                sa.select(col(Account.id), Customer)
                .join(Customer, col(Customer.id) == col(Account.customer_id))
                .where(col(Account.id).between(*shard))
            ).all()
            started = time.perf_counter()
            load_facts(session, runtime.config, rows, AS_OF, NOW)  # type: ignore[arg-type]
            samples["load_facts"].append(time.perf_counter() - started)
        with Session(engine) as session:
            config, renderer, sender = runtime.config, runtime.renderer, runtime.sender
            planning = partial(
                outreach.plan_outreach, session, config, renderer, sender, ("reminder",), AS_OF, NOW, shard
            )
            plan = _split(samples, "plan", planning)
            dispatching = partial(dispatch_due, session, config, runtime.channel, DISPATCH_AT)
            dispatch = _split(samples, "dispatch", dispatching)
            session.rollback()
        counts.update(plan_checks=plan.calls["check"], dispatch_checks=dispatch.calls["check"])
        print(
            f"run {run + 1}: load_facts {samples['load_facts'][-1]:.3f} s, plan_outreach {samples['plan'][-1]:.3f} s "
            f"(load_facts {samples['plan_load_facts'][-1]:.3f} s, guard {samples['plan_guard'][-1]:.3f} s, "
            f"{counts['plan_checks']:,} checks), dispatch_due {samples['dispatch'][-1]:.3f} s "
            f"(load_facts {samples['dispatch_load_facts'][-1]:.3f} s, guard {samples['dispatch_guard'][-1]:.3f} s, "
            f"{counts['dispatch_checks']:,} checks)"
        )
    engine.dispose()
    return {**{key: statistics.median(values) for key, values in samples.items()}, **counts}


def _split(samples: dict[str, list[float]], name: str, call: Callable[[], object]) -> Split:
    """Time `call`, and record how much of it went to load_facts and to the guard proper."""
    with Split().patched() as split:
        started = time.perf_counter()
        call()
        samples[name].append(time.perf_counter() - started)
    samples[f"{name}_load_facts"].append(split.seconds["load_facts"])
    samples[f"{name}_guard"].append(split.seconds["facts"] + split.seconds["check"])
    return split


def bench_guard(accounts: int, runs: int, checks: int = 200_000) -> dict[str, Any]:
    config = load_configuration(PROJECT_ROOT / "configs")
    pure = bench_checks(config, checks, runs)
    stores: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite: {accounts:,} accounts")
        stores["SQLite"] = bench_store(f"sqlite:///{Path(folder) / 'bench.db'}", accounts, runs)
    reason = unreachable(PG_URL)
    if reason is None:
        print(f"PostgreSQL: {accounts:,} accounts")
        with fresh_postgres(PG_URL) as url:
            stores["PostgreSQL"] = bench_store(url, accounts, runs)
    else:
        print(f"PostgreSQL skipped, not reachable: {reason}")
    result = {
        "benchmark": "guard",
        "accounts": accounts,
        "runs": runs,
        "check_contact": pure,
        "per_shard": stores,
        "machine": describe(),
    }
    print_table(result)
    return result


def print_table(result: dict[str, Any]) -> None:
    pure, stores = result["check_contact"], result["per_shard"]
    names = list(stores)
    size = stores[names[0]]["shard_accounts"]
    shards = math.ceil(SCALE / size)
    print(f"\nMachine: {result['machine']}. Medians of {result['runs']} runs.\n")
    print(f"check_contact: {pure['median_us']:.2f} µs per check ({pure['blocked_share']:.0%} of proposals blocked)\n")
    print(f"| one shard of {size:,} accounts (portfolio of {result['accounts']:,}) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, key in (
        ("load_facts, whole shard", "load_facts"),
        ("plan_outreach, reminder stage", "plan"),
        ("  of which load_facts", "plan_load_facts"),
        ("  of which guard (facts + check_contact)", "plan_guard"),
        ("dispatch_due, one tick over what was planned", "dispatch"),
        ("  of which load_facts", "dispatch_load_facts"),
        ("  of which guard (facts + check_contact)", "dispatch_guard"),
    ):
        print(f"| {label} | " + " | ".join(f"{stores[name][key]:.3f} s" for name in names) + " |")
    print(
        "| accounts in the reminder stage | " + " | ".join(f"{stores[n]['reminder_accounts']:,}" for n in names) + " |"
    )
    checks = " | ".join(f"{stores[n]['plan_checks']:,} + {stores[n]['dispatch_checks']:,}" for n in names)
    print(f"| guard checks (planning + dispatch) | {checks} |")
    print(
        f"\nProjection for {SCALE:,} accounts ({shards} shards), single process, no parallelism: the medians above "
        "scaled, with every account's facts loaded and checked once at planning and once at dispatch."
    )
    checking = 2 * SCALE * pure["median_us"] / 1e6
    print(f"- check_contact, {2 * SCALE:,} checks: {checking:.0f} s")
    for name in names:
        loading = 2 * shards * stores[name]["load_facts"]
        print(
            f"- load_facts, {2 * shards} whole-shard loads on {name}: {loading:.0f} s; "
            f"with the checks {(loading + checking) / 60:.1f} min"
        )

"""Outreach benchmarks: the outbox dispatched through the real SDKs to Prism mocks of the providers' specs.

`email`: N queued emails (default 100,000) dispatched to the SendGrid mock (target: at most 60 s).
`sms`: N queued texts (default 10,000) at a configured rate (default 100 a second) to the Twilio mock
(target: about N / rate seconds, and never more than the rate in any one-second window, counted at the instant
each request leaves as the limiter records it, right before the request is handed to the SDK's HTTP client;
a stamp taken inside that client is reported beside it).

Each run dispatches a fresh copy of one seeded SQLite database: customers in New York, one message each,
rendered from the shipped templates, due at noon local time. The clock starts when dispatch starts: the guard's
second check, the claims, the provider requests and the writing back of every result are all inside it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from twilio.http.async_http_client import AsyncTwilioHttpClient

from benchmarks.machine import describe
from overdue.channels.context import message_context
from overdue.channels.throttle import Grant, RateLimiter
from overdue.domain.addresses import is_e164
from overdue.runtime import Runtime, build_runtime
from overdue.services.dispatch import dispatch_due
from overdue.settings import Settings
from overdue.store.db import get_engine, session_scope
from overdue.store.migrate import upgrade
from overdue.store.tables import Account, ContactPoint, Customer, OutreachMessage
from tests.prism import install_prism, prism, sendgrid_spec, twilio_spec

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # noon in New York, inside every contact window
ZONE = "America/New_York"
BATCH = 10_000  # messages per dispatch call, as the daily cycle's dispatcher takes them


def phone_numbers(count: int) -> Iterator[str]:
    """Distinct valid US numbers."""
    made = 0
    for exchange in range(200, 1000):
        for line in range(10_000):
            number = f"+1212{exchange}{line:04d}"
            if is_e164(number):
                yield number
                made += 1
                if made == count:
                    return


def seed(url: str, channel: str, count: int) -> None:
    """`count` customers, each with one account, one contact point and one queued message on `channel`."""
    upgrade(url)
    runtime = build_runtime(Settings(database_url=url), url)
    addresses = phone_numbers(count) if channel == "sms" else (f"customer{n}@example.com" for n in range(count))
    customers, points, accounts, messages = [], [], [], []
    for n, address in enumerate(addresses, start=1):
        locale = "zh-CN" if n % 4 == 0 else "en-US"
        customer = Customer(
            id=n,
            external_ref=f"C{n}",
            full_name=f"Customer {n}",
            time_zone=ZONE,
            locale=locale,
            jurisdiction="US",
            created_at=NOW,
        )
        account = Account(
            id=n,
            external_ref=f"A{n}",
            customer_id=n,
            product="credit_card",
            currency="USD",
            principal_minor=100_000 + n,
            interest_minor=5_000,
            fees_minor=2_500,
            placed_balance_minor=107_500 + n,
            due_date=date(2026, 2, 20),
            dpd=18,
            stage="reminder",
        )
        rendered = runtime.renderer.render(
            "reminder_early", channel, locale, message_context(runtime.sender, customer, account)
        )
        customers.append(customer.model_dump())
        accounts.append(account.model_dump())
        points.append({"customer_id": n, "channel": channel, "address": address, "consent": True, "party": "debtor"})
        messages.append(
            {
                "idempotency_key": f"bench:{channel}:{n}",
                "account_id": n,
                "customer_id": n,
                "channel": channel,
                "address": address,
                "template": "reminder_early",
                "locale": locale,
                "stage": "reminder",
                "step": f"reminder_{channel}",
                "purpose": "collection",
                "subject": rendered.subject,
                "body": rendered.body,
                "status": "queued",
                "send_at": NOW,
                "created_at": NOW,
            }
        )
    with session_scope(url) as session:
        for table, rows in ((Customer, customers), (Account, accounts), (ContactPoint, points)):
            session.execute(sa.insert(table), rows)
        session.execute(sa.insert(OutreachMessage), messages)
    get_engine(url).dispose()


def live_runtime(url: str, **settings: Any) -> Runtime:
    common: dict[str, Any] = {
        "twilio_account_sid": "AC" + "0123456789abcdef" * 2,
        "twilio_auth_token": SecretStr("bench-token"),
        "twilio_from_number": "+12125550100",
        "sendgrid_api_key": SecretStr("SG.bench-key"),
        "email_from": "collections@bank.example.com",
        "public_url": "https://hooks.example.com",
        "unsubscribe_secret": SecretStr("bench-secret"),
    }
    return build_runtime(Settings(database_url=url, **common | settings), url)


def dispatch_all(runtime: Runtime) -> tuple[float, int]:
    """Dispatch until nothing due is left; (seconds, messages sent)."""
    sent = 0
    started = time.perf_counter()
    while True:
        with session_scope(runtime.database_url) as session:
            counts = dispatch_due(session, runtime.config, runtime.channel, NOW, limit=BATCH)
        if counts.failed or counts.blocked or counts.cancelled:
            raise RuntimeError(f"dispatch did not send everything: {counts.as_dict()}")
        if counts.sent == 0:
            return time.perf_counter() - started, sent
        sent += counts.sent


@contextmanager
def request_clock() -> Iterator[tuple[list[float], list[float]]]:
    """Two instants per Twilio request: when it left as the rate limiter counts it (`departed`, which the
    transport calls right before handing the request over) and when the SDK's aiohttp client was handed it
    (stamped here). Both happen in one event loop with no await between them, so they pair up in order."""
    departures: list[float] = []
    handed: list[float] = []
    departed: Callable[[RateLimiter, Grant], None] = RateLimiter.departed
    request: Callable[..., Awaitable[Any]] = AsyncTwilioHttpClient.request

    def counted(self: RateLimiter, grant: Grant) -> None:
        departed(self, grant)
        departures.append(grant.at)

    async def stamped(self: AsyncTwilioHttpClient, *args: Any, **kwargs: Any) -> Any:
        handed.append(time.monotonic())
        return await request(self, *args, **kwargs)

    RateLimiter.departed = counted  # type: ignore[method-assign]
    AsyncTwilioHttpClient.request = stamped
    try:
        yield departures, handed
    finally:
        RateLimiter.departed = departed  # type: ignore[method-assign,assignment]
        AsyncTwilioHttpClient.request = request


def busiest_second(stamps: list[float]) -> int:
    """The most requests in any one-second window (two pointers over the sorted instants)."""
    ordered, most, start = sorted(stamps), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def bench(channel: str, count: int, runs: int, rate: float | None) -> dict[str, Any]:
    install_prism()
    results: list[dict[str, float | int]] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        seeded = work / "seeded.db"
        started = time.perf_counter()
        seed(f"sqlite:///{seeded}", channel, count)
        print(f"seeded {count} {channel} messages in {time.perf_counter() - started:.1f} s")
        spec = twilio_spec(work) if channel == "sms" else sendgrid_spec()
        with prism(spec, work / "prism.log") as mock:
            for run in range(runs):
                copy = work / f"run{run}.db"
                shutil.copy(seeded, copy)
                url = f"sqlite:///{copy}"
                if channel == "sms":
                    runtime = live_runtime(url, outreach_mode_sms="live", twilio_base_url=mock, sms_rate=rate)
                else:
                    runtime = live_runtime(url, outreach_mode_email="live", sendgrid_base_url=mock)
                with request_clock() as (departures, handed):
                    seconds, sent = dispatch_all(runtime)
                with session_scope(url) as session:
                    settled = session.scalar(
                        sa.select(sa.func.count()).where(OutreachMessage.status == "sent")  # type: ignore[arg-type]
                    )
                if sent != count or settled != count:
                    raise RuntimeError(f"run {run + 1}: {sent} dispatched, {settled} recorded sent, of {count}")
                result: dict[str, float | int] = {"seconds": round(seconds, 1), "per_second": round(sent / seconds)}
                if channel == "sms":
                    delays = sorted(h - d for d, h in zip(departures, handed, strict=True))
                    result |= {
                        "busiest_second": busiest_second(departures),
                        "busiest_second_stamped": busiest_second(handed),
                        "stamp_after_departure_max_ms": round(delays[-1] * 1000, 2),
                    }
                results.append(result)
                print(f"run {run + 1}: " + ", ".join(f"{key} {value}" for key, value in result.items()))
                get_engine(url).dispose()
    summary: dict[str, Any] = {
        "benchmark": channel,
        "messages": count,
        "runs": runs,
        "median_seconds": statistics.median(r["seconds"] for r in results),
        "median_per_second": statistics.median(r["per_second"] for r in results),
        "machine": describe(),
    }
    if channel == "sms":
        summary["configured_rate"] = rate
        for key in ("busiest_second", "busiest_second_stamped", "stamp_after_departure_max_ms"):
            summary[key] = max(r[key] for r in results)
    return summary


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("benchmark", choices=["email", "sms"])
    parser.add_argument("--messages", type=int, help="email: 100000; sms: 10000")
    parser.add_argument("--rate", type=float, default=100.0, help="sms: messages per second (OVERDUE_SMS_RATE)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    count = args.messages or (100_000 if args.benchmark == "email" else 10_000)
    print(json.dumps(bench(args.benchmark, count, args.runs, args.rate), indent=2))

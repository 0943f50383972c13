"""The pure parts of the channels: the rate limiter, retries, email content and batching, unsubscribe tokens,
the router and the wiring from settings."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from overdue.channels.base import OutgoingMessage, SendResult
from overdue.channels.email_content import compose, html_from_text
from overdue.channels.outbox import DryRunOutbox
from overdue.channels.retries import ProviderError, RetryPolicy, call_with_retries, parse_retry_after
from overdue.channels.router import ChannelRouter, run
from overdue.channels.sendgrid_email import HTML_TAG, TEXT_TAG, Item, SendGridAccount, mail_body, requests_for
from overdue.channels.throttle import RateLimiter
from overdue.channels.unsubscribe import message_of, token_for, unsubscribe_url
from overdue.channels.wiring import build_channels
from overdue.settings import Settings, SettingsError, load_settings

# --- the rate limiter ---------------------------------------------------------------------------------


class FakeTime:
    """A clock that only moves when someone sleeps, and wakes sleepers up to `jitter` seconds late."""

    def __init__(self, jitter: float = 0.0, seed: int = 1) -> None:
        self.now = 1000.0
        self.jitter = jitter
        self.rng = random.Random(seed)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # A real clock has always moved after a sleep, however short; so does this one.
        self.now = max(self.now + seconds + self.rng.uniform(0, self.jitter), math.nextafter(self.now, math.inf))
        await asyncio.sleep(0)


def grant_times(rate: float, requests: int, jitter: float = 0.0, messages: int = 1) -> list[float]:
    time = FakeTime(jitter)
    limiter = RateLimiter(rate, clock=time.clock, sleep=time.sleep)
    granted: list[float] = []

    async def one() -> None:
        await limiter.acquire(messages)
        granted.append(time.now)

    async def everyone() -> None:
        await asyncio.gather(*(one() for _ in range(requests)))

    run(everyone())
    return sorted(granted)


def busiest_second(times: Sequence[float], weight: int = 1) -> int:
    """The most grants in any one-second window: the windows worth checking end at a grant."""
    return max(weight * sum(1 for s in times if 0 <= end - s < 1.0) for end in times)


def test_a_hundred_a_second_is_a_hundred_a_second_evenly() -> None:
    times = grant_times(100, 1000)
    assert busiest_second(times) == 100
    assert 9.9 <= times[-1] - times[0] <= 10.0
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(0.01)  # spaced, not a burst at the top of each second


@settings(max_examples=30, deadline=None)
@given(
    rate=st.sampled_from([0.5, 1.0, 3.0, 7.5, 100.0, 250.0]),
    jitter=st.floats(min_value=0.0, max_value=0.04),  # below CATCH_UP; real wake-ups are late by far less
    requests=st.integers(min_value=1, max_value=300),
)
def test_late_wake_ups_never_crowd_a_window(rate: float, jitter: float, requests: int) -> None:
    times = grant_times(rate, requests, jitter)
    assert busiest_second(times) <= max(1, int(rate))
    # and the rate is still reached: a late grant holds back only the one a full window of grants later, so
    # lateness adds up once per window's worth of grants, not once per grant
    capacity = max(1, int(rate))  # whole messages: 7.5 a second allows 7 in any one second
    windows = requests / capacity + 2
    assert times[-1] - times[0] <= (requests - 1) / min(rate, capacity) + 1.0 + jitter * windows


def test_requests_held_up_after_their_grant_still_never_crowd_a_window() -> None:
    """A thread can lose the CPU between the grant and the request: the request says when it really left."""
    time = FakeTime(jitter=0.002)
    limiter = RateLimiter(100, clock=time.clock, sleep=time.sleep)
    rng = random.Random(7)
    left: list[float] = []

    async def one() -> None:
        grant = await limiter.acquire()
        if rng.random() < 0.02:  # descheduled for a while: no await, so no other grant meanwhile
            time.now += rng.uniform(0, 0.05)
        limiter.departed(grant)
        left.append(time.now)

    async def everyone() -> None:
        await asyncio.gather(*(one() for _ in range(1000)))

    run(everyone())
    assert busiest_second(sorted(left)) <= 100
    assert sorted(left)[-1] - sorted(left)[0] < 10.0 + 1.0  # still about a hundred a second


def test_batches_count_every_message_against_the_rate() -> None:
    times = grant_times(2000, 10, messages=1000)  # ten requests of a thousand emails
    assert busiest_second(times, weight=1000) <= 2000
    assert times[-1] - times[0] == pytest.approx(4.5)


def test_a_batch_larger_than_a_second_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="exceed"):
        RateLimiter(100).wait_time(0.0, 101)


def test_hold_keeps_every_request_back() -> None:
    time = FakeTime()
    limiter = RateLimiter(100, clock=time.clock, sleep=time.sleep)
    limiter.hold(2.5)
    run(limiter.acquire())
    assert time.now == pytest.approx(1002.5)


# --- retries ---------------------------------------------------------------------------------------------


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Tue, 10 Mar 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Tue, 10 Mar 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_and_gives_up() -> None:
    policy = RetryPolicy(attempts=4, base_delay=1.0, max_delay=3.0, rng=random.Random(3))
    busy = ProviderError(503, "busy")
    delays = [policy.delay(attempt, busy) for attempt in (1, 2, 3)]
    assert [0.5 <= delays[0] <= 1.0, 1.0 <= delays[1] <= 2.0, 1.5 <= delays[2] <= 3.0] == [True] * 3  # type: ignore[operator]
    assert policy.delay(4, busy) is None
    assert policy.delay(1, ProviderError(429, "slow down", retry_after=2.0)) == 2.0
    assert policy.delay(1, ProviderError(429, "slow down", retry_after=60.0)) is None  # longer than we wait


def test_only_answers_that_say_not_now_are_retried() -> None:
    time = FakeTime()
    limiter = RateLimiter(1000, clock=time.clock, sleep=time.sleep)
    answers: list[Exception | str] = [ProviderError(503, "busy"), ProviderError(None, "refused"), "done"]

    async def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    policy = RetryPolicy(attempts=3, base_delay=0.1)
    assert run(call_with_retries(call, limiter, policy, sleep=time.sleep)) == "done"
    answers[:] = [ProviderError(400, "bad request"), "never"]
    with pytest.raises(ProviderError, match="bad request"):
        run(call_with_retries(call, limiter, policy, sleep=time.sleep))
    assert answers == ["never"]


# --- email content and batching ------------------------------------------------------------------------------


def test_the_html_part_is_the_text_escaped() -> None:
    text = 'Dear <b>Ann</b> & "Bo",\n\nHow to pay:\n- by card\n- by <script>x</script>\nThanks'
    html = html_from_text(text)
    assert "<b>" not in html
    assert "<script>" not in html
    assert "&lt;b&gt;Ann&lt;/b&gt; &amp; &quot;Bo&quot;" in html
    assert html == (
        "<p>Dear &lt;b&gt;Ann&lt;/b&gt; &amp; &quot;Bo&quot;,</p>\n"
        "<p>How to pay:</p>\n<ul><li>by card</li><li>by &lt;script&gt;x&lt;/script&gt;</li></ul>\n<p>Thanks</p>"
    )


@pytest.mark.parametrize(("locale", "label"), [("en-US", "unsubscribe here"), ("zh-CN", "退订")])
def test_every_email_carries_its_unsubscribe_link_three_times(locale: str, label: str) -> None:
    link = "https://hooks.example.com/unsubscribe/12.abc"
    content = compose("Subject", "Body", locale, link)
    assert content.text.endswith(link)
    assert label in content.text
    assert f'<a href="{link}">' in content.html
    assert content.headers == {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


ACCOUNT = SendGridAccount(SecretStr("SG.x"), "c@bank.example.com", "Bank")


def item(n: int, body: str = "") -> Item:
    body = body or f"Dear customer {n},\n\nYou owe ${n}.00 & <more>."
    message = OutgoingMessage(f"k{n}", "email", f"c{n}@example.com", f"Subject {n}", body, message_id=n)
    return Item(n, message, compose(message.subject or "", body, "en-US", f"https://h.example/unsubscribe/{n}.x"))


def as_delivered(body: dict[str, object]) -> list[tuple[str, str, str]]:
    """What each recipient receives: SendGrid applies a personalization's substitutions to the content."""
    delivered = []
    for entry in body["personalizations"]:  # type: ignore[attr-defined]
        parts = []
        for content in body["content"]:  # type: ignore[attr-defined]
            value = content["value"]
            for tag, replacement in entry.get("substitutions", {}).items():
                value = value.replace(tag, replacement)
            parts.append(value)
        delivered.append((entry["to"][0]["email"], parts[0], parts[1]))
    return delivered


def test_each_recipient_of_a_shared_request_gets_exactly_their_own_email() -> None:
    items = [item(n) for n in range(5)]
    body = mail_body(ACCOUNT, items)
    assert [c["value"] for c in body["content"]] == [TEXT_TAG, HTML_TAG]
    assert as_delivered(body) == [(i.message.address, i.content.text, i.content.html) for i in items]
    assert [p["custom_args"] for p in body["personalizations"]] == [{"overdue_message_id": str(n)} for n in range(5)]
    assert [p["subject"] for p in body["personalizations"]] == [f"Subject {n}" for n in range(5)]


def test_an_email_too_large_to_substitute_goes_alone_and_written_out() -> None:
    big = item(99, "x" * 6000)  # text and HTML together pass the 10,000 bytes SendGrid substitutes
    small = [item(n) for n in range(3)]
    groups = list(requests_for([small[0], big, *small[1:]], per_request=1000))
    assert [[i.index for i in group] for group in groups] == [[0, 1, 2], [99]]
    body = mail_body(ACCOUNT, groups[1])
    assert "substitutions" not in body["personalizations"][0]
    assert as_delivered(body) == [(big.message.address, big.content.text, big.content.html)]


def test_requests_hold_at_most_the_limit() -> None:
    groups = list(requests_for([item(n) for n in range(2500)], per_request=1000))
    assert [len(g) for g in groups] == [1000, 1000, 500]


# --- unsubscribe tokens ---------------------------------------------------------------------------------------

SECRET = SecretStr("s3cret")


def test_an_unsubscribe_token_names_its_message_and_cannot_be_altered() -> None:
    token = token_for(42, SECRET)
    assert message_of(token, SECRET) == 42
    assert message_of(token.replace("42.", "43."), SECRET) is None
    assert message_of(token, SecretStr("other")) is None
    assert message_of("x.y", SECRET) is None
    assert message_of(token + "A", SECRET) is None
    assert unsubscribe_url("https://h.example/", 42, SECRET) == f"https://h.example/unsubscribe/{token}"
    assert "@" not in token


# --- the router -------------------------------------------------------------------------------------------------


class Recording:
    provider = "recording"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        self.batches.append([m.idempotency_key for m in messages])
        return [SendResult(self.provider, f"id-{m.idempotency_key}") for m in messages]


def test_the_router_sends_each_channel_in_one_batch_and_answers_in_order() -> None:
    texts = Recording()
    router = ChannelRouter({"sms": texts})
    messages = [OutgoingMessage(f"k{n}", ("sms", "letter")[n % 2], "a", None, "b") for n in range(6)]
    results = router.send_many(messages)
    assert [r.provider for r in results] == ["recording", "dry-run"] * 3
    assert [r.provider_id for r in results[::2]] == ["id-k0", "id-k2", "id-k4"]
    assert texts.batches == [["k0", "k2", "k4"]]
    assert results[1] == DryRunOutbox().send(messages[1])


# --- settings and wiring ----------------------------------------------------------------------------------------


def test_dry_run_is_the_default_for_every_channel() -> None:
    router = build_channels(Settings())
    assert {router.provider_of(c) for c in ("sms", "voice", "email", "letter")} == {"dry-run"}


def test_live_without_credentials_names_the_missing_variables() -> None:
    with pytest.raises(SettingsError, match=r"sms is live \(OVERDUE_OUTREACH_MODE=live\).*TWILIO_ACCOUNT_SID"):
        build_channels(Settings(outreach_mode="live", twilio_from_number="+12125550100"))
    with pytest.raises(
        SettingsError,
        match=r"OVERDUE_OUTREACH_MODE_EMAIL=live.*SENDGRID_API_KEY, OVERDUE_EMAIL_FROM, OVERDUE_PUBLIC_URL, "
        r"OVERDUE_UNSUBSCRIBE_SECRET",
    ):
        build_channels(Settings(outreach_mode_email="live"))
    with pytest.raises(SettingsError, match="neither TWILIO_FROM_NUMBER nor TWILIO_MESSAGING_SERVICE_SID"):
        build_channels(Settings(outreach_mode_sms="live"))


def test_live_credentials_are_checked_for_shape() -> None:
    def live(sid: str, base_url: str | None = None) -> Settings:
        return Settings(
            outreach_mode_sms="live",
            twilio_account_sid=sid,
            twilio_auth_token=SecretStr("t"),
            twilio_from_number="+12125550100",
            twilio_base_url=base_url,
        )

    with pytest.raises(SettingsError, match="TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"):
        build_channels(live("AC123"))
    with pytest.raises(SettingsError, match="OVERDUE_TWILIO_BASE_URL must be an http"):
        build_channels(live("AC" + "0" * 32, "mock"))


def test_one_channel_can_stay_dry_while_the_others_go_live() -> None:
    router = build_channels(
        Settings(
            outreach_mode="live",
            outreach_mode_email="dry-run",
            twilio_account_sid="AC" + "0" * 32,
            twilio_auth_token=SecretStr("t"),
            twilio_from_number="+12125550100",
        )
    )
    assert [router.provider_of(c) for c in ("sms", "voice", "email")] == ["twilio", "twilio", "dry-run"]


def test_a_bad_setting_is_reported_by_its_variable_and_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERDUE_SMS_RATE", "fast")
    with pytest.raises(SettingsError, match="OVERDUE_SMS_RATE: Input should be a valid number"):
        load_settings()
    monkeypatch.delenv("OVERDUE_SMS_RATE")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token-value-1234")
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.key-value-5678")
    loaded = load_settings()
    assert loaded.twilio_auth_token is not None
    assert loaded.twilio_auth_token.get_secret_value() == "token-value-1234"
    assert "token-value-1234" not in repr(loaded)
    assert "key-value-5678" not in repr(loaded)

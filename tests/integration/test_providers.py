"""The real twilio and sendgrid SDKs against request-validating mocks of the providers' own API specs (Prism),
and against a scripted provider for the errors a spec-driven mock cannot produce."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr
from sendgrid import SendGridAPIClient

from overdue.channels import sendgrid_email
from overdue.channels.base import Failure, OutgoingMessage, SendResult
from overdue.channels.retries import Pacing, RetryPolicy
from overdue.channels.router import run
from overdue.channels.sendgrid_email import SendGridAccount, SendGridEmail
from overdue.channels.throttle import Grant, RateLimiter
from overdue.channels.twilio_base import TwilioAccount, TwilioSender
from overdue.channels.twilio_sms import TwilioSms
from overdue.channels.twilio_voice import TwilioVoice
from tests.prism import ProviderMocks, free_port
from tests.scripted import Answer, scripted_provider, twilio_error, twilio_message

pytestmark = pytest.mark.providers

SID = "AC" + "0123456789abcdef" * 2
SERVICE = "MG" + "fedcba9876543210" * 2
TOKEN = SecretStr("test-auth-token")
FROM = "+12125550100"
HOOKS = "https://hooks.example.com"
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=5.0)


class CountingLimiter(RateLimiter):
    """Counts requests: every try, first or retry, passes the limiter."""

    def __init__(self, rate: float = 1000.0) -> None:
        super().__init__(rate)
        self.grants = 0

    async def acquire(self, messages: int = 1) -> Grant:
        grant = await super().acquire(messages)
        self.grants += 1
        return grant


def twilio(kind: type[TwilioSender], base_url: str, **account: Any) -> tuple[TwilioSender, CountingLimiter]:
    limiter = CountingLimiter()
    fields = {"from_number": FROM} | account
    sender = kind(TwilioAccount(SID, TOKEN, base_url=base_url, **fields), Pacing(limiter, FAST_RETRY, 4, 10.0), HOOKS)
    return sender, limiter


def sendgrid(base_url: str, rate: float = 5000.0) -> tuple[SendGridEmail, CountingLimiter]:
    limiter = CountingLimiter(rate)
    account = SendGridAccount(SecretStr("SG.test-key"), "collections@bank.example.com", "Demo Bank", base_url)
    sender = SendGridEmail(account, Pacing(limiter, FAST_RETRY, 4, 10.0), HOOKS, SecretStr("unsubscribe-secret"))
    return sender, limiter


def text(n: int, address: str = "+12125550123") -> OutgoingMessage:
    return OutgoingMessage(f"key-{n}", "sms", address, None, f"Message {n}: please call us.", message_id=n)


def email(n: int, address: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        f"key-{n}", "email", address or f"c{n}@example.com", f"Reminder {n}", f"Dear customer {n},\n\nPlease pay.", n
    )


def send(sender: TwilioSender | SendGridEmail, messages: list[OutgoingMessage]) -> list[SendResult]:
    return run(sender.send_batch(messages))


# --- Twilio: the mock of the 2010 API ----------------------------------------------------------------


def test_texts_go_through_the_twilio_mock_and_a_bad_number_never_leaves(mocks: ProviderMocks) -> None:
    sender, limiter = twilio(TwilioSms, mocks.twilio_url)
    results = send(sender, [text(1), text(2), text(3, "+1 212 555 0123"), text(4, "12345")])
    assert [r.accepted for r in results] == [True, True, False, False]
    assert all(r.provider_id and r.provider_id.startswith("SM") for r in results[:2])
    assert {r.failure for r in results[2:]} == {Failure.INVALID_ADDRESS}
    assert limiter.grants == 2  # only the valid numbers reached the provider


def test_texts_through_a_messaging_service(mocks: ProviderMocks) -> None:
    sender, _ = twilio(TwilioSms, mocks.twilio_url, from_number=None, messaging_service_sid=SERVICE)
    assert send(sender, [text(1)])[0].accepted


def test_a_request_the_api_would_refuse_is_refused_and_not_retried(mocks: ProviderMocks) -> None:
    sender, limiter = twilio(TwilioSms, mocks.twilio_url, from_number=None, messaging_service_sid="MG-not-a-sid")
    [result] = send(sender, [text(1)])
    assert (result.accepted, result.failure) == (False, Failure.REJECTED)
    assert result.error is not None
    assert "HTTP 422" in result.error
    assert "MessagingServiceSid" in result.error  # Prism's reason, read from its answer
    assert limiter.grants == 1


def test_a_call_with_progress_callbacks_through_the_twilio_mock(mocks: ProviderMocks) -> None:
    """StatusCallbackEvent is a list: sent as a repeated form field, accepted by the (patched) spec."""
    sender, _ = twilio(TwilioVoice, mocks.twilio_url)
    call = OutgoingMessage("call-1", "voice", "+8613800138000", None, "您好，请回电。", message_id=7, locale="zh-CN")
    [result] = send(sender, [call])
    assert result.accepted
    assert result.provider_id is not None
    assert result.provider_id.startswith("CA")


# --- SendGrid: the mock of v3 mail send --------------------------------------------------------------


@pytest.fixture
def requests_made(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The body of every mail-send request, in order."""
    made: list[dict[str, Any]] = []
    real: Callable[[SendGridAPIClient, dict[str, Any]], str | None] = sendgrid_email._post

    def spy(client: SendGridAPIClient, body: dict[str, Any]) -> str | None:
        made.append(body)
        return real(client, body)

    monkeypatch.setattr(sendgrid_email, "_post", spy)
    return made


def test_emails_go_a_thousand_to_a_request(mocks: ProviderMocks, requests_made: list[dict[str, Any]]) -> None:
    sender, _ = sendgrid(mocks.sendgrid_url)
    results = send(sender, [email(n) for n in range(2345)])
    assert all(r.accepted for r in results)
    assert sorted(len(body["personalizations"]) for body in requests_made) == [345, 1000, 1000]
    recipients = [p["to"][0]["email"] for body in requests_made for p in body["personalizations"]]
    assert sorted(recipients) == sorted(f"c{n}@example.com" for n in range(2345))


def test_a_recipient_the_mock_refuses_fails_alone(mocks: ProviderMocks, requests_made: list[dict[str, Any]]) -> None:
    """Our own check passes `a..b@example.com`; the spec's email format does not. Only that one fails."""
    sender, _ = sendgrid(mocks.sendgrid_url)
    results = send(sender, [email(1), email(2, "a..b@example.com"), email(3)])
    assert [r.accepted for r in results] == [True, False, True]
    assert results[1].failure == Failure.INVALID_ADDRESS
    assert [len(body["personalizations"]) for body in requests_made] == [3, 2]


def test_a_rate_below_a_thousand_makes_smaller_requests(
    mocks: ProviderMocks, requests_made: list[dict[str, Any]]
) -> None:
    sender, _ = sendgrid(mocks.sendgrid_url, rate=300.0)
    assert all(r.accepted for r in send(sender, [email(n) for n in range(700)]))
    assert sorted(len(body["personalizations"]) for body in requests_made) == [100, 300, 300]


def test_server_errors_are_retried_then_reported(
    mocks: ProviderMocks, monkeypatch: pytest.MonkeyPatch, requests_made: list[dict[str, Any]]
) -> None:
    """Prism answers with the spec's 500 when asked to (`Prefer: code=500`)."""

    class Failing(SendGridAPIClient):  # type: ignore[misc]
        @property
        def _default_headers(self) -> dict[str, str]:
            return dict(super()._default_headers) | {"Prefer": "code=500"}

    monkeypatch.setattr(sendgrid_email, "SendGridAPIClient", Failing)
    sender, limiter = sendgrid(mocks.sendgrid_url)
    results = send(sender, [email(1), email(2)])
    assert {(r.accepted, r.failure) for r in results} == {(False, Failure.PROVIDER_ERROR)}
    assert len(requests_made) == limiter.grants == FAST_RETRY.attempts


# --- errors only a scripted provider gives ----------------------------------------------------------------


def test_twilio_429_waits_as_long_as_retry_after_says() -> None:
    throttled = Answer(429, twilio_error(20429, "Too Many Requests", 429), {"Retry-After": "1"})
    with scripted_provider(Answer(201, twilio_message())) as (provider, url):
        provider.script.append(throttled)
        sender, limiter = twilio(TwilioSms, url)
        [result] = send(sender, [text(1)])
    assert result.accepted
    first, second = provider.received
    assert second.at - first.at >= 1.0
    assert limiter.grants == 2


@pytest.mark.parametrize(
    ("code", "failure"),
    [(21211, Failure.INVALID_ADDRESS), (21614, Failure.INVALID_ADDRESS), (21610, Failure.UNSUBSCRIBED)],
)
def test_twilio_error_codes_about_the_number_are_permanent(code: int, failure: Failure) -> None:
    with scripted_provider(Answer(400, twilio_error(code, "refused"))) as (provider, url):
        sender, _ = twilio(TwilioSms, url)
        [result] = send(sender, [text(1)])
    assert (result.accepted, result.failure) == (False, failure)
    assert result.error is not None
    assert f"error {code}" in result.error
    assert len(provider.received) == 1  # never retried


def test_sendgrid_503_is_retried_after_the_wait_it_asks_for() -> None:
    with scripted_provider(Answer(202)) as (provider, url):
        provider.script.append(Answer(503, {"errors": [{"message": "busy"}]}, {"Retry-After": "1"}))
        sender, _ = sendgrid(url)
        assert all(r.accepted for r in send(sender, [email(1), email(2)]))
    first, second = provider.received
    assert second.at - first.at >= 1.0


def test_a_provider_that_cannot_be_reached_is_tried_again_then_reported() -> None:
    sender, limiter = twilio(TwilioSms, f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    [result] = send(sender, [text(1)])
    assert (result.accepted, result.failure) == (False, Failure.PROVIDER_ERROR)
    assert limiter.grants == FAST_RETRY.attempts
    assert time.monotonic() - started < 5


def test_a_call_sends_each_progress_event_as_its_own_field_and_the_script_as_twiml() -> None:
    call = {"sid": "CA" + "0" * 32, "status": "queued", "account_sid": SID}
    with scripted_provider(Answer(201, call)) as (provider, url):
        sender, _ = twilio(TwilioVoice, url)
        message = OutgoingMessage(
            "c", "voice", "+8613800138000", None, "请回电 <4008-123>", message_id=9, locale="zh-CN"
        )
        [result] = send(sender, [message])
    assert result.accepted
    form = parse_qs(provider.received[0].body.decode())
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert form["StatusCallback"] == [f"{HOOKS}/webhooks/twilio/status?message=9"]
    assert '<Say language="cmn-CN" voice="Polly.Zhiyu">请回电 &lt;4008-123&gt;</Say>' in form["Twiml"][0]


def test_a_request_left_without_an_answer_is_not_retried() -> None:
    """It may have reached Twilio: sending it again could text the customer twice."""
    with scripted_provider(Answer(201, twilio_message(), delay=3.0)) as (provider, url):
        limiter = CountingLimiter()
        account = TwilioAccount(SID, TOKEN, FROM, base_url=url)
        sender = TwilioSms(account, Pacing(limiter, FAST_RETRY, 4, timeout=0.5), HOOKS)
        [result] = send(sender, [text(1)])
    assert (result.accepted, result.failure) == (False, Failure.NO_RESPONSE)
    assert len(provider.received) == 1

"""What Twilio's SMS and voice senders share: the account, the SDK's async HTTP client pointed where the
settings say, Twilio's error codes read as facts about the number, and concurrent sending through the limiter.

The SDK is used as documented: a custom `http_client` (a subclass of its `AsyncTwilioHttpClient`) sends the
requests to OVERDUE_TWILIO_BASE_URL when it is set (a proxy, a test double), and `create_async` makes them.
"""

from __future__ import annotations

import asyncio
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import SecretStr
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from overdue.channels.base import Failure, OutgoingMessage, SendResult
from overdue.channels.retries import NoResponse, Pacing, ProviderError, call_with_retries, parse_retry_after
from overdue.channels.throttle import RateLimiter
from overdue.domain.addresses import is_e164

TWILIO_HOST = re.compile(r"^https://(?:[a-z0-9-]+\.)*twilio\.com")
# Twilio error codes that are facts about the number (https://www.twilio.com/docs/api/errors).
INVALID_NUMBER_CODES = frozenset(
    {
        21211,  # invalid 'To' phone number
        21214,  # 'To' phone number cannot be reached
        21217,  # phone number does not appear to be valid
        21401,  # invalid phone number
        21614,  # 'To' number is not a valid mobile number
        13223,  # call: invalid phone number format
        13224,  # call: invalid phone number
    }
)
UNSUBSCRIBED_CODES = frozenset({21610})  # the recipient replied STOP: Twilio refuses every message to them


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str
    auth_token: SecretStr
    from_number: str | None = None
    messaging_service_sid: str | None = None
    base_url: str | None = None


class TwilioTransport(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's aiohttp client, rewriting https://*.twilio.com to `base_url` and raising `ProviderError`
    for any answer other than success, with Twilio's error code and Retry-After read from the answer. Every
    request passes the limiter right before it leaves, and tells it when it does, so nothing between the grant
    and the request (the SDK building it, the thread waiting for the CPU) can bunch requests up."""

    def __init__(self, base_url: str | None, timeout: float, limiter: RateLimiter) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.limiter = limiter

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.base_url:
            url = TWILIO_HOST.sub(self.base_url, url)
        grant = await self.limiter.acquire()
        try:
            self.limiter.departed(grant)
            response = await super().request(
                method, url, params, _repeated(data), headers, auth, timeout or self.timeout, allow_redirects
            )
        except aiohttp.ClientConnectorError as exc:  # nothing reached Twilio: safe to try again
            raise ProviderError(None, f"cannot connect to Twilio ({exc.__class__.__name__})") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NoResponse(f"no answer from Twilio ({exc.__class__.__name__})") from None
        if response.status_code >= 400:
            raise _error(response)
        return response


def _repeated(data: Mapping[str, object] | None) -> list[tuple[str, object]] | None:
    """A list value (StatusCallbackEvent) becomes a repeated form field, as Twilio expects."""
    if data is None:
        return None
    return [(key, item) for key, value in data.items() for item in (value if isinstance(value, list) else [value])]


def _error(response: Response) -> ProviderError:
    try:
        payload: Any = json.loads(response.text)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    reasons = "; ".join(str(v.get("message", "")) for v in payload.get("validation", []) if isinstance(v, dict))
    message = payload.get("message") or reasons or payload.get("title") or response.text[:200] or "no details"
    code = payload.get("code")
    retry_after = parse_retry_after(response.headers.get("Retry-After") if response.headers else None)
    return ProviderError(
        response.status_code, str(message), code=code if isinstance(code, int) else None, retry_after=retry_after
    )


def failure_of(error: ProviderError) -> Failure:
    if error.code in INVALID_NUMBER_CODES:
        return Failure.INVALID_ADDRESS
    if error.code in UNSUBSCRIBED_CODES:
        return Failure.UNSUBSCRIBED
    return Failure.PROVIDER_ERROR if error.retryable else Failure.REJECTED


class TwilioSender(ABC):
    """Sends a batch concurrently (at most `concurrency` requests in flight), every request through the
    channel's rate limiter and retry policy. A number that is not E.164 never reaches Twilio."""

    provider = "twilio"

    def __init__(self, account: TwilioAccount, pacing: Pacing, public_url: str | None) -> None:
        self.account = account
        self.pacing = pacing
        self.public_url = public_url.rstrip("/") if public_url else None

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        pacing = self.pacing
        async with TwilioTransport(self.account.base_url, pacing.timeout, pacing.limiter) as transport:
            client = Client(self.account.account_sid, self.account.auth_token.get_secret_value(), http_client=transport)
            gate = asyncio.Semaphore(pacing.concurrency)
            return list(await asyncio.gather(*(self._send_one(client, gate, m) for m in messages)))

    async def _send_one(self, client: Client, gate: asyncio.Semaphore, message: OutgoingMessage) -> SendResult:
        if not is_e164(message.address):
            return self._failed(Failure.INVALID_ADDRESS, "not a valid phone number in E.164 form")
        async with gate:
            try:
                sid = await call_with_retries(
                    lambda: self.create(client, message), self.pacing.limiter, self.pacing.retry
                )
            except ProviderError as error:
                return self._failed(failure_of(error), str(error))
            except NoResponse as error:
                return self._failed(Failure.NO_RESPONSE, f"{error}: it may have been sent")
        return SendResult(self.provider, sid)

    def _failed(self, failure: Failure, error: str) -> SendResult:
        return SendResult(self.provider, None, accepted=False, error=error, failure=failure)

    def status_callback(self, message: OutgoingMessage) -> str | None:
        """Where Twilio reports this message's progress; the outbox id lets a callback settle a message whose
        send was cut off before we recorded Twilio's id."""
        if self.public_url is None or message.message_id is None:
            return None
        return f"{self.public_url}/webhooks/twilio/status?message={message.message_id}"

    @abstractmethod
    async def create(self, client: Client, message: OutgoingMessage) -> str:
        """Make the one request that sends `message`; return Twilio's id for it."""

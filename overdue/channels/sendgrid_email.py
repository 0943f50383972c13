"""Email through SendGrid's v3 mail send, up to 1000 recipients per request.

Every customer's email is rendered for them alone, so a shared request cannot share one body. Each recipient
is a personalization whose substitutions carry its own text and HTML, and the request's content is nothing
but the two tags they replace: after substitution each customer gets exactly the email rendered for them. A
message whose substitutions would pass SendGrid's 10,000-byte limit goes in a request of its own with its
content written out. Custom args carry our outbox id, so delivery events find their message.

The SDK (`SendGridAPIClient`) is synchronous (urllib): requests run in threads, at most `concurrency` at once,
each through the channel's limiter counting its recipients.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import urllib.error
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from overdue.channels.base import Failure, OutgoingMessage, SendResult
from overdue.channels.email_content import EmailContent, compose
from overdue.channels.retries import NoResponse, Pacing, ProviderError, call_with_retries, parse_retry_after
from overdue.channels.unsubscribe import unsubscribe_url
from overdue.domain.addresses import email_problem

DEFAULT_HOST = "https://api.sendgrid.com"
TEXT_TAG, HTML_TAG = "%%overdue_text%%", "%%overdue_html%%"
SUBSTITUTION_LIMIT = 10_000  # bytes of substitutions per personalization
MAX_RECIPIENTS = 1000  # personalizations per request
MESSAGE_ARG = "overdue_message_id"
PERSONALIZATION_FIELD = re.compile(r"personalizations\.(\d+)(\.to)?")


@dataclass(frozen=True)
class SendGridAccount:
    api_key: SecretStr
    sender: str
    sender_name: str
    base_url: str | None = None


@dataclass(frozen=True)
class Item:
    """One email of a batch: where its result goes, and its content."""

    index: int
    message: OutgoingMessage
    content: EmailContent

    def substitutions(self) -> dict[str, str]:
        return {TEXT_TAG: self.content.text, HTML_TAG: self.content.html}

    def fits_substitutions(self) -> bool:
        return sum(len(k.encode()) + len(v.encode()) for k, v in self.substitutions().items()) <= SUBSTITUTION_LIMIT


def personalization(item: Item, *, substituted: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "to": [{"email": item.message.address}],
        "subject": item.content.subject,
        "headers": item.content.headers,
        "custom_args": {MESSAGE_ARG: str(item.message.message_id)},
    }
    if substituted:
        entry["substitutions"] = item.substitutions()
    return entry


def mail_body(account: SendGridAccount, items: Sequence[Item]) -> dict[str, Any]:
    """One mail-send request: several recipients by substitution, or one recipient written out."""
    substituted = len(items) > 1 or items[0].fits_substitutions()
    if substituted:
        text, markup = TEXT_TAG, HTML_TAG
    else:
        text, markup = items[0].content.text, items[0].content.html
    return {
        "from": {"email": account.sender, "name": account.sender_name},
        "personalizations": [personalization(item, substituted=substituted) for item in items],
        "content": [{"type": "text/plain", "value": text}, {"type": "text/html", "value": markup}],
        # Our own link and header carry the opt-out; SendGrid's would add a second one we could not record.
        "tracking_settings": {"subscription_tracking": {"enable": False}},
    }


def requests_for(items: Sequence[Item], per_request: int) -> Iterator[list[Item]]:
    """Recipients in groups of at most `per_request`; an email too large to substitute goes alone."""
    shared = [item for item in items if item.fits_substitutions()]
    for start in range(0, len(shared), per_request):
        yield shared[start : start + per_request]
    for item in items:
        if not item.fits_substitutions():
            yield [item]


def _error(exc: HTTPError) -> ProviderError:
    """SendGrid's errors name the offending field. A request-validating mock answers with the spec's example
    body and puts its real reasons in the `sl-violations` header: those, when present, are the ones to read."""
    headers = exc.headers or {}
    try:
        violations = json.loads(headers.get("sl-violations") or "[]")
    except ValueError:
        violations = []
    if violations:
        reasons = [
            (str(v.get("message", "")), ".".join(str(part) for part in v.get("location", [])[2:]))  # past request.body
            for v in violations
        ]
    else:
        try:
            payload = json.loads(exc.body or b"{}")
        except ValueError:
            payload = {}
        errors = payload.get("errors", []) if isinstance(payload, dict) else []
        reasons = [(str(e.get("message", "")), str(e.get("field") or "")) for e in errors if isinstance(e, dict)]
    return ProviderError(
        exc.status_code,
        "; ".join(message for message, _ in reasons if message) or str(exc.reason),
        retry_after=parse_retry_after(headers.get("Retry-After")),
        fields=tuple(field for _, field in reasons if field and field != "null"),
    )


def _post(client: SendGridAPIClient, body: dict[str, Any]) -> str | None:
    """The blocking request; the X-Message-Id SendGrid answers with (a mock may send none)."""
    try:
        response = client.send(body)
    except HTTPError as exc:
        raise _error(exc) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
            raise ProviderError(None, f"cannot connect to SendGrid ({exc.reason.__class__.__name__})") from None
        raise NoResponse(f"no answer from SendGrid ({exc.reason.__class__.__name__})") from None
    except (TimeoutError, ConnectionError) as exc:
        raise NoResponse(f"no answer from SendGrid ({exc.__class__.__name__})") from None
    headers = response.headers or {}
    message_id = headers.get("X-Message-Id")
    return str(message_id) if message_id else None


def _failed(failure: Failure, error: str) -> SendResult:
    return SendResult("sendgrid", None, accepted=False, error=error, failure=failure)


class SendGridEmail:
    provider = "sendgrid"

    def __init__(
        self, account: SendGridAccount, pacing: Pacing, public_url: str, unsubscribe_secret: SecretStr
    ) -> None:
        self.account = account
        self.pacing = pacing
        self.public_url = public_url
        self.unsubscribe_secret = unsubscribe_secret
        self.per_request = min(MAX_RECIPIENTS, pacing.limiter.capacity)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult | None] = [None] * len(messages)
        items: list[Item] = []
        for index, message in enumerate(messages):
            problem = self._problem(message)
            if problem is not None:
                results[index] = problem
            else:
                items.append(Item(index, message, self._content(message)))
        client = SendGridAPIClient(self.account.api_key.get_secret_value(), host=self.account.base_url or DEFAULT_HOST)
        client.client.timeout = self.pacing.timeout
        gate = asyncio.Semaphore(self.pacing.concurrency)
        await asyncio.gather(
            *(self._send(client, gate, group, results) for group in requests_for(items, self.per_request))
        )
        assert all(result is not None for result in results)
        return [result for result in results if result is not None]

    def _problem(self, message: OutgoingMessage) -> SendResult | None:
        problem = email_problem(message.address)
        if problem:
            return _failed(Failure.INVALID_ADDRESS, f"the address {problem}")
        if not message.subject:
            return _failed(Failure.REJECTED, "an email needs a subject")
        if message.message_id is None:
            return _failed(Failure.REJECTED, "an email needs its outbox id for the unsubscribe link")
        return None

    def _content(self, message: OutgoingMessage) -> EmailContent:
        assert message.subject is not None
        assert message.message_id is not None
        link = unsubscribe_url(self.public_url, message.message_id, self.unsubscribe_secret)
        return compose(message.subject, message.body, message.locale, link)

    async def _send(
        self, client: SendGridAPIClient, gate: asyncio.Semaphore, items: list[Item], results: list[SendResult | None]
    ) -> None:
        body = mail_body(self.account, items)
        outcome: str | ProviderError | NoResponse | None

        limiter = self.pacing.limiter

        async def attempt() -> str | None:
            grant = await limiter.acquire(len(items))  # every recipient counts against the rate

            def leave() -> str | None:
                limiter.departed(grant)  # in the request's own thread, right before it goes
                return _post(client, body)

            return await asyncio.to_thread(leave)

        async with gate:
            try:
                outcome = await call_with_retries(attempt, self.pacing.limiter, self.pacing.retry)
            except (ProviderError, NoResponse) as error:
                outcome = error
        if isinstance(outcome, NoResponse):
            for item in items:
                results[item.index] = _failed(Failure.NO_RESPONSE, f"{outcome}: it may have been sent")
        elif isinstance(outcome, ProviderError):
            await self._refused(client, gate, items, results, outcome)
        else:
            for item in items:
                results[item.index] = SendResult(self.provider, outcome)

    async def _refused(
        self,
        client: SendGridAPIClient,
        gate: asyncio.Semaphore,
        items: list[Item],
        results: list[SendResult | None],
        error: ProviderError,
    ) -> None:
        """Recipients the provider refused by name fail and the others go again without them; a request refused
        as a whole (our sender, our key, an outage) fails every recipient alike."""
        refused = _refused_recipients(error, len(items))
        if refused is None:
            failure = Failure.PROVIDER_ERROR if error.retryable else Failure.REJECTED
            refused = dict.fromkeys(range(len(items)), failure)
        for position, failure in refused.items():
            results[items[position].index] = _failed(failure, str(error))
        rest = [item for position, item in enumerate(items) if position not in refused]
        if rest:
            await self._send(client, gate, rest, results)


def _refused_recipients(error: ProviderError, count: int) -> dict[int, Failure] | None:
    """The personalizations a 400 names, when it names only personalizations (a bad address, say); None when
    the whole request is at fault (our sender, our key), so every recipient fails alike."""
    if error.status != 400 or not error.fields:
        return None
    refused: dict[int, Failure] = {}
    for name in error.fields:
        match = PERSONALIZATION_FIELD.match(name)
        if match is None or int(match.group(1)) >= count:
            return None
        refused[int(match.group(1))] = Failure.INVALID_ADDRESS if match.group(2) else Failure.REJECTED
    return refused

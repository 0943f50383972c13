"""Unsubscribe links that name no one: the token is an outbox message id and a signature over it, so a link
can be neither guessed nor altered to unsubscribe someone else, and it carries no email address."""

from __future__ import annotations

import base64
import hashlib
import hmac

from pydantic import SecretStr

PATH = "/unsubscribe/"


def _signature(message_id: int, secret: SecretStr) -> str:
    mac = hmac.new(secret.get_secret_value().encode(), f"unsubscribe:{message_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def token_for(message_id: int, secret: SecretStr) -> str:
    return f"{message_id}.{_signature(message_id, secret)}"


def message_of(token: str, secret: SecretStr) -> int | None:
    """The message id a genuine token was made for; None for anything else."""
    head, _, signature = token.partition(".")
    if not head.isdigit() or len(head) > 18:
        return None
    message_id = int(head)
    return message_id if hmac.compare_digest(signature, _signature(message_id, secret)) else None


def unsubscribe_url(public_url: str, message_id: int, secret: SecretStr) -> str:
    return f"{public_url.rstrip('/')}{PATH}{token_for(message_id, secret)}"

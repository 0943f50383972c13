"""Personal data sealed at rest: national ID, card and bank account numbers are stored as Fernet tokens.

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) authenticates as well as encrypts, so a token
altered in the database fails to open instead of opening to another number. MultiFernet gives rotation:
the first key of OVERDUE_DATA_KEYS seals, every key opens, and `overdue pii rotate-keys` re-seals old tokens
under the first key, after which the old key can be dropped.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from overdue.config import ConfigError
from overdue.settings import Settings

ENV = "OVERDUE_DATA_KEYS"
DEV_KEY_FILE = "dev-data.key"
logger = logging.getLogger(__name__)


class SealError(Exception):
    """A token that none of the configured keys opens: tampered with, or sealed under a key since removed."""


class Vault:
    """Seals and opens personal data. Holds the keys and never shows them (its repr counts them)."""

    def __init__(self, keys: Sequence[str]) -> None:
        fernets = [Fernet(key) for key in keys]
        self._primary = fernets[0]
        self._all = MultiFernet(fernets)
        self._count = len(fernets)

    def __repr__(self) -> str:
        return f"Vault({self._count} key(s))"

    def seal(self, plain: str) -> str:
        return self._all.encrypt(plain.encode()).decode("ascii")

    def seal_bytes(self, plain: bytes) -> str:
        """A document (an emailed receipt, a statement) as a token."""
        return self._all.encrypt(plain).decode("ascii")

    def open_bytes(self, token: str) -> bytes:
        try:
            return self._all.decrypt(token.encode("ascii"))
        except InvalidToken:
            raise SealError(f"a sealed value opens with none of the keys in {ENV}") from None

    def open(self, token: str) -> str:
        try:
            return self._all.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise SealError(f"a sealed value opens with none of the keys in {ENV}") from None

    def rotate(self, token: str) -> str:
        """The token sealed under the primary key; one already sealed under it comes back unchanged, so
        rotating twice is rotating once."""
        raw = token.encode("ascii")
        try:
            self._primary.decrypt(raw)
            return token
        except InvalidToken:
            pass
        try:
            return self._all.rotate(raw).decode("ascii")
        except InvalidToken:
            raise SealError(f"a sealed value opens with none of the keys in {ENV}") from None


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_vault(settings: Settings, database_url: str) -> Vault:
    """The keys from OVERDUE_DATA_KEYS; without them a SQLite database (the demo's) gets a development key
    file, and any other database is refused: production data is never sealed under a key lying next to it."""
    if settings.data_keys is not None:
        return Vault(_parse(settings.data_keys.get_secret_value(), ENV))
    if make_url(database_url).get_backend_name() != "sqlite":
        raise ConfigError(
            f"{ENV} is not set: a database other than SQLite needs the keys that seal personal data "
            f"(comma-separated Fernet keys; make one with `overdue pii new-key`)"
        )
    path = settings.data_dir / DEV_KEY_FILE
    return Vault(_parse(_development_key(path), str(path)))


def _parse(text: str, source: str) -> list[str]:
    """Comma-separated Fernet keys. Errors say which key is wrong, never what it is."""
    keys = [key.strip() for key in text.split(",")]
    if keys == [""]:
        raise ConfigError(f"{source} is empty: it must hold at least one Fernet key")
    for n, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                f"{source}: key {n} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `overdue pii new-key`)"
            ) from None
    return keys


@lru_cache(maxsize=4)
def _development_key(path: Path) -> str:
    """Said once, when the key is made (not on every command a demo user types)."""
    if path.exists():
        return development_secret(path, new_key)
    key = development_secret(path, new_key)
    logger.warning("Personal data is sealed with a new development key %s; production must set %s.", path, ENV)
    return key


def development_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret for a SQLite demo, created on first use, readable by its owner only. Written under a temporary
    name and linked into place, so two processes starting together agree on one secret and neither reads a
    half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(handle, "w", encoding="ascii") as stream:
                stream.write(make() + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text(encoding="ascii").strip()

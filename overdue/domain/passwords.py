"""Passwords kept as salted scrypt hashes (RFC 7914, Python's standard library), never in any other form.

The stored text names its parameters (`scrypt$N$r$p$salt$hash`), so they can be raised later and old hashes
still verify. N=2^15, r=8 takes 32 MiB and about 0.1 s per check here: cheap for one sign-in, ruinous for
anyone trying guesses against a stolen table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
COST, BLOCK, PARALLEL = 2**15, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
MAX_MEMORY = 64 * 1024 * 1024
MIN_LENGTH = 10


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    """Length is what resists guessing; composition rules only make people write them down (NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")


def _derive(password: str, salt: bytes, cost: int, block: int, parallel: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=cost, r=block, p=parallel, maxmem=MAX_MEMORY, dklen=HASH_BYTES
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(password, salt, COST, BLOCK, PARALLEL)
    return f"{SCHEME}${COST}${BLOCK}${PARALLEL}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison; a malformed stored value verifies nothing."""
    try:
        scheme, cost, block, parallel, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        derived = _derive(password, _unb64(salt), int(cost), int(block), int(parallel))
    except ValueError:
        return False
    return hmac.compare_digest(derived, _unb64(digest))


# Verified against when the name is unknown, so a wrong name costs as long as a wrong password and the
# timing does not tell which names exist.
DECOY_HASH = hash_password(secrets.token_urlsafe(16))

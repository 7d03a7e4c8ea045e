"""Password hashes for the app's simple login: PBKDF2-HMAC-SHA256 with a random salt.

A hash is one string, ``pbkdf2_sha256$<iterations>$<salt>$<digest>`` (salt and
digest in URL-safe base64), so it can be pasted into the app's secrets file;
the password itself is never stored. ``audit hash-password`` makes one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from audit.errors import ReasonCode, UsageError

SCHEME = "pbkdf2_sha256"
ITERATIONS = 600_000
"""OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256 (about 0.3 s per check here)."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """A salted hash of ``password`` to keep instead of the password.

    Raises
    ------
    UsageError
        When the password is empty or ``iterations`` is below 1.
    """
    if not password:
        raise UsageError("the password is empty; choose a password", reason=ReasonCode.OPTION_INVALID)
    if iterations < 1:
        raise UsageError(f"iterations must be at least 1; got {iterations}", reason=ReasonCode.OPTION_INVALID)
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the hash ``stored`` (False for a malformed hash; constant-time compare)."""
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 4 or parts[0] != SCHEME or not parts[1].isdigit():
        return False
    try:
        salt, expected = _unb64(parts[2]), _unb64(parts[3])
    except (ValueError, TypeError):
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, int(parts[1]))
    return hmac.compare_digest(digest, expected)

"""Customers' per-order tokens: random, shown once, stored only as a hash, compared in constant
time (rotating and revoking them is `tracker/adapters/order_token_store.py`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# stored for a revoked token: no hex digest equals it, and it is as long as one, so checking a
# token against it takes the time any other check takes
REVOKED = "-" * 64


def new_token() -> str:
    """A fresh customer token (192 random bits)."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    # tokens carry 192 random bits, so a plain SHA-256 cannot be brute-forced; no salt needed
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    """Constant-time check; a missing token or order compares like a wrong one."""
    candidate = hash_token(token or "")
    return hmac.compare_digest(candidate, stored_hash or "0" * 64)

"""Standard Webhooks signatures (symmetric, `v1`): secrets, keys and the signature header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
_SECRET_RULE = "a webhook secret is 'whsec_' and the base64 of 24 to 64 random bytes"


def signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret; ValueError (never quoting it) if malformed."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith(SECRET_PREFIX) or not 24 <= len(key) <= 64:
        raise ValueError(_SECRET_RULE)
    return key


def new_secret() -> str:
    """A fresh secret for one endpoint: 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def webhook_headers(msg_id: str, timestamp: int, body: bytes, key: bytes | None) -> dict[str, str]:
    """One POST's headers: Standard Webhooks' id and timestamp (`Idempotency-Key` too), and the
    signature when there is a key."""
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": msg_id,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if key is not None:
        headers["webhook-signature"] = sign(key, msg_id, timestamp, body)
    return headers

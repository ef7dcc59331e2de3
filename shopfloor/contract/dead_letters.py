"""The dead-letter body, one shape for every service (docs/mqtt.md): what was rejected,
why, when, and the first 4 KiB of its payload."""

from __future__ import annotations

import base64
import json
from datetime import datetime

# what a dead letter keeps of a payload
KEEP_BYTES = 4096


def payload_text(raw: bytes) -> dict[str, str]:
    """`{"payload": text}`, or `{"payload_base64": ...}` when `raw` is not UTF-8."""
    try:
        return {"payload": raw.decode()}
    except UnicodeDecodeError:
        return {"payload_base64": base64.b64encode(raw).decode()}


def dead_letter_body(
    topic: str | None,
    reason: str,
    detail: str,
    raw: bytes,
    received_at: datetime,
    **extra: str,
) -> str:
    """The body every dead letter has: `topic`, `reason`, `detail`, `received_at` and the first
    `KEEP_BYTES` of the payload (`payload_base64` when not UTF-8), then `extra` fields."""
    body: dict[str, object] = {
        "topic": topic,
        "reason": reason,
        "detail": detail,
        "received_at": received_at.isoformat(),
        **payload_text(raw[:KEEP_BYTES]),
        **extra,
    }
    return json.dumps(body)

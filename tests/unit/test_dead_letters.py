"""Dead letters: one body shape for rejected messages and for points the store refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from gateway.dead_letters import DeadLetters
from gateway.stats import GatewayStats
from shopfloor.contract.dead_letters import dead_letter_body
from shopfloor.contract.payloads import PayloadError

AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
FIELDS = {"topic", "reason", "detail", "received_at"}


def test_a_rejected_message_has_the_documented_shape() -> None:
    body = json.loads(dead_letter_body("a/b", "type", "not a number", b'{"v": "hot"}', AT))
    assert body == {
        "topic": "a/b",
        "reason": "type",
        "detail": "not a number",
        "received_at": "2030-01-02T03:04:05+00:00",
        "payload": '{"v": "hot"}',
    }


def test_a_payload_that_is_not_utf8_is_kept_as_base64_and_cut_at_4_kib() -> None:
    body = json.loads(dead_letter_body("a/b", "invalid_json", "x", b"\xff" * 5000, AT))
    assert "payload" not in body
    assert base64.b64decode(body["payload_base64"]) == b"\xff" * 4096


def test_messages_and_refused_points_are_counted_and_published_in_one_shape() -> None:
    published: list[str] = []
    stats = GatewayStats()
    dead = DeadLetters(published.append, stats)
    dead.message("a/b", b"{", PayloadError("invalid_json", "bad"))
    dead.point("telemetry,machine=m1 v=1i 1", "field type conflict")
    message, point = (json.loads(body) for body in published)
    assert FIELDS <= message.keys() and FIELDS <= point.keys()
    assert point["topic"] is None  # a batch mixes messages: no one topic
    assert point["reason"] == "store_rejected"
    assert point["payload"] == point["line"] == "telemetry,machine=m1 v=1i 1"
    assert stats.rejected == {"invalid_json": 1, "store_rejected": 1}

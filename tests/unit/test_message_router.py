"""The message router: points to the batcher, failures to dead letters, every message in turn."""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.acks import Token
from gateway.convert import Converter
from gateway.dead_letters import DeadLetters
from gateway.message_router import MessageRouter
from gateway.outlet import EventOutlet
from gateway.stats import GatewayStats
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate

TOPIC = "shopfloor/plant1/line1/cnc-1/telemetry"


class _Broken(Converter):
    def convert(self, *_a: object, **_k: object) -> list[str]:
        raise RuntimeError("a bug")


def _router(
    converter: Converter | None = None,
) -> tuple[MessageRouter, list[tuple[list[str], Token | None]], list[str], GatewayStats]:
    delivered: list[tuple[list[str], Token | None]] = []
    published: list[str] = []
    stats = GatewayStats()
    deliver = lambda lines, token: delivered.append((lines, token))  # noqa: E731
    client = mqtt.Client(CallbackAPIVersion.VERSION2)  # never connected
    router = MessageRouter(
        converter or Converter(TopicTemplate(DEFAULT_TEMPLATE), 4096),
        deliver,
        EventOutlet(client, deliver),
        DeadLetters(published.append, stats),
        stats,
    )
    return router, delivered, published, stats


def test_a_reading_goes_to_the_batcher_with_its_token() -> None:
    router, delivered, published, _ = _router()
    router.route(TOPIC, b'{"values": {"t": 1.5}}', False, (0, 7))
    ((lines, token),) = delivered
    assert token == (0, 7) and len(lines) == 1 and " t=1.5 " in lines[0]
    assert published == []


def test_a_bad_message_is_dead_lettered_and_still_goes_on_to_keep_the_ack_order() -> None:
    router, delivered, published, stats = _router()
    router.route(TOPIC, b"{", False, (0, 8))
    assert delivered == [([], (0, 8))]
    assert json.loads(published[0])["reason"] == "invalid_json"
    assert stats.rejected == {"invalid_json": 1}


def test_a_converter_bug_is_an_internal_error_and_not_raised() -> None:
    router, delivered, published, _ = _router(_Broken(TopicTemplate(DEFAULT_TEMPLATE), 4096))
    router.route(TOPIC, b"{}", False, None)
    assert delivered == [([], None)]
    assert json.loads(published[0])["reason"] == "internal_error"


def test_a_skipped_message_is_acknowledged_in_its_turn() -> None:
    router, delivered, _, _ = _router()
    router.skip((0, 9))
    assert delivered == [([], (0, 9))]

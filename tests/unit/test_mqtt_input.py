"""The MQTT input: messages noted for acknowledgement, our own topics skipped, none after stop."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.acks import AckSequencer, Token
from gateway.mqtt_input import MqttInput
from gateway.stats import GatewayStats

FILTER = "shopfloor/+/+/+/+"


class _Router:
    def __init__(self) -> None:
        self.routed: list[tuple[str, bytes, Token | None]] = []
        self.skipped: list[Token | None] = []

    def route(self, topic: str, raw: bytes, _retained: bool, token: Token | None) -> None:
        self.routed.append((topic, raw, token))

    def skip(self, token: Token | None) -> None:
        self.skipped.append(token)


def _receive(mqtt_input: MqttInput, topic: str, mid: int) -> None:
    msg = mqtt.MQTTMessage(mid, topic.encode())
    msg.payload, msg.qos = b"{}", 1
    mqtt_input._on_message(mqtt.Client(CallbackAPIVersion.VERSION2), None, msg)


def _input() -> tuple[MqttInput, _Router, GatewayStats]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    router, stats = _Router(), GatewayStats()
    acks = AckSequencer(lambda _mid: None)
    mqtt_input = MqttInput(client, "5", [FILTER], acks, router, stats)  # type: ignore[arg-type]
    return mqtt_input, router, stats


def test_a_message_goes_to_the_router_with_its_acknowledgement_token() -> None:
    mqtt_input, router, stats = _input()
    _receive(mqtt_input, "shopfloor/p/l/m/telemetry", 5)
    assert router.routed == [("shopfloor/p/l/m/telemetry", b"{}", (0, 5))]
    assert stats.messages == 1


def test_our_own_dead_letters_are_skipped_but_acknowledged_in_turn() -> None:
    mqtt_input, router, stats = _input()
    _receive(mqtt_input, "shopfloor/_deadletter/gateway", 6)
    assert router.routed == [] and router.skipped == [(0, 6)]
    assert stats.ignored == 1


def test_after_stop_nothing_is_taken_so_the_broker_delivers_it_again() -> None:
    mqtt_input, router, stats = _input()
    mqtt_input.stop()
    _receive(mqtt_input, "shopfloor/p/l/m/telemetry", 7)
    assert router.routed == [] and router.skipped == [] and stats.messages == 0

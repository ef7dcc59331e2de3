"""The event outlet holds a message's acknowledgement until its events are acknowledged."""

from __future__ import annotations

from typing import NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.acks import AckSequencer
from gateway.outlet import EventOutlet


class Event(NamedTuple):
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


def _outlet() -> tuple[EventOutlet, AckSequencer, list[int], list[list[str]]]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)  # never connected: publishes are queued
    sent: list[int] = []
    delivered: list[list[str]] = []
    acks = AckSequencer(sent.append)
    outlet = EventOutlet(client, lambda lines, _t: delivered.append(lines), acks)
    return outlet, acks, sent, delivered


def test_points_go_on_at_once_and_the_ack_waits_for_the_events_puback() -> None:
    outlet, acks, sent, delivered = _outlet()
    token = acks.received(7)
    outlet.send([Event("shopfloor/p/l/m/event", b"{}")], ["point"], token)
    assert delivered == [["point"]]
    acks.durable([token])
    outlet.release()
    assert sent == [] and outlet.waiting == 1  # queued while disconnected: not acknowledged
    (pending,) = outlet._pending
    (info,) = pending.infos
    assert info.rc == mqtt.MQTT_ERR_NO_CONN
    outlet.on_publish(None, None, info.mid)  # its PUBACK after the reconnect
    assert sent == [7] and outlet.waiting == 0


def test_a_message_queued_while_disconnected_counts_once_paho_marks_it_published() -> None:
    outlet, acks, sent, _ = _outlet()
    token = acks.received(3)
    outlet.send([Event("t/event", b"{}")], [], token)
    acks.durable([token])
    (pending,) = outlet._pending
    pending.infos[0]._set_as_published()
    outlet.release()  # no exception from paho's is_published(), and the ack goes
    assert sent == [3]

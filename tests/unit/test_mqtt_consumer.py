"""The tracker's MQTT consumer: batches, acknowledgements after commit, retries, parking,
dead letters, shutdown."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.exc import OperationalError

from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from tests.waiting import wait_for
from tracker.domain import commands
from tracker.domain.model import DomainError
from tracker.entrypoints.mqtt_consumer import EventConsumer
from tracker.service_layer.bus import CommandResult, MessageBus

TOPIC = "shopfloor/p1/l1/saw-1/event"


class AckRecordingClient(mqtt.Client):
    """A paho client that never connects and records the acknowledgements it is asked for
    and what it is asked to publish."""

    def __init__(self) -> None:
        super().__init__(CallbackAPIVersion.VERSION2, manual_ack=True)
        self.acked: list[int] = []
        self.published: list[tuple[str, dict[str, Any]]] = []

    def ack(self, mid: int, qos: int) -> MQTTErrorCode:
        self.acked.append(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def publish(self, topic: str, payload: Any = None, *_a: Any, **_k: Any) -> Any:
        self.published.append((topic, json.loads(payload)))
        return mqtt.MQTTMessageInfo(0)


class StubBus:
    """Records each batch, and the acknowledgements sent before it was applied."""

    def __init__(self, client: AckRecordingClient) -> None:
        self.client = client
        self.batches: list[list[str]] = []
        self.acked_before: list[int] = []
        self.fail: Callable[[list[str]], None] = lambda _ids: None

    def handle_batch(self, cmds: Sequence[commands.Command]) -> list[CommandResult]:
        ids = [getattr(cmd, "event_id", "") for cmd in cmds]
        self.batches.append(ids)
        self.acked_before.append(len(self.client.acked))
        self.fail(ids)
        return [DomainError("refused") if i.startswith("bad") else True for i in ids]


@pytest.fixture
def client() -> AckRecordingClient:
    return AckRecordingClient()


@pytest.fixture
def bus(client: AckRecordingClient) -> StubBus:
    return StubBus(client)


@pytest.fixture
def consumer(client: AckRecordingClient, bus: StubBus) -> Iterator[EventConsumer]:
    events = EventConsumer(client, cast(MessageBus, bus), TopicTemplate(DEFAULT_TEMPLATE))
    yield events
    events.stop(timeout_s=5)


def receive(client: mqtt.Client, mid: int, payload: bytes | None = None) -> None:
    """What paho's network thread does with one QoS 1 PUBLISH."""
    msg = mqtt.MQTTMessage(mid, TOPIC.encode())
    msg.qos = 1
    body = {"event_id": f"e{mid}", "type": "alarm", "code": "JAM", "message": "jammed"}
    msg.payload = payload if payload is not None else json.dumps(body).encode()
    on_message: Any = client.on_message
    on_message(client, None, msg)


def test_what_has_arrived_is_applied_in_batches_and_acknowledged_in_order_after_commit(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    for mid in range(1, 1201):
        receive(client, mid)
    consumer.start()
    wait_for(lambda: len(client.acked) == 1200)
    assert [len(batch) for batch in bus.batches] == [500, 500, 200]
    assert bus.acked_before == [0, 500, 1000]  # a batch is acknowledged once applied, not before
    assert client.acked == list(range(1, 1201))
    assert consumer.applied == 1200


def test_a_lone_event_is_applied_at_once(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    consumer.start()
    started = time.monotonic()
    receive(client, 1)
    wait_for(lambda: client.acked == [1])
    assert time.monotonic() - started < 1.0
    assert bus.batches == [["e1"]]


def test_bad_payloads_and_refused_events_are_counted_and_acknowledged_in_their_place(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    receive(client, 1)
    receive(client, 2, b"garbage")
    body = {"event_id": "bad-1", "type": "alarm", "code": "X", "message": "m"}
    receive(client, 3, json.dumps(body).encode())
    receive(client, 4)
    consumer.start()
    wait_for(lambda: len(client.acked) == 4)
    assert client.acked == [1, 2, 3, 4]
    assert bus.batches == [["e1", "bad-1", "e4"]]  # the garbage never reaches the bus
    assert consumer.rejected == {"invalid_json": 1, "domain": 1}
    assert consumer.applied == 2


def test_a_database_error_leaves_the_batch_unacknowledged_until_it_is_applied_again(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    def down_once(_ids: list[str]) -> None:
        if len(bus.batches) == 1:
            raise OperationalError("INSERT ...", {}, Exception("server closed the connection"))

    bus.fail = down_once
    receive(client, 1)
    receive(client, 2, b"garbage")
    receive(client, 3)
    consumer.start()
    wait_for(lambda: consumer.failures == 1)
    assert client.acked == []
    wait_for(lambda: len(client.acked) == 3)
    assert bus.batches == [["e1", "e3"], ["e1", "e3"]]  # the same batch, tried again
    assert client.acked == [1, 2, 3]
    assert consumer.rejected == {"invalid_json": 1}  # counted once, after the commit
    assert consumer.applied == 2


Parked = tuple[str, bytes, str, str, int, datetime]


def parking(consumer: EventConsumer, fail_first: int = 0) -> list[Parked]:
    """Give `consumer` a parking place that records what it stores (failing the first times
    as a database that is down does)."""
    parked: list[Parked] = []

    def park(*row: Any) -> int:
        if fail_first > len(parked) + park.failed:  # type: ignore[attr-defined]
            park.failed += 1  # type: ignore[attr-defined]
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        parked.append(cast(Parked, row))
        return len(parked)

    park.failed = 0  # type: ignore[attr-defined]
    consumer.worker.park = park
    return parked


def test_a_message_the_bus_cannot_apply_is_tried_then_parked_and_the_others_applied(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    def bug(ids: list[str]) -> None:
        if "e2" in ids:
            raise RuntimeError("a bug this event finds")

    bus.fail = bug
    parked = parking(consumer, fail_first=1)
    for mid in (1, 2, 3, 4):
        receive(client, mid)
    consumer.start()
    wait_for(lambda: client.acked == [1, 2, 3, 4])
    # split in halves until the message at fault is alone, tried 3 times, then parked
    assert bus.batches == [
        ["e1", "e2", "e3", "e4"],
        ["e1", "e2"],
        ["e1"],
        *[["e2"]] * 3,
        ["e3", "e4"],
    ]
    assert len(parked) == 1  # the database was down at the first try: parked at the second
    topic, payload, reason, traceback_id, attempts, _at = parked[0]
    assert (topic, json.loads(payload)["event_id"]) == (TOPIC, "e2")
    assert (reason, attempts, len(traceback_id)) == ("RuntimeError: a bug this event finds", 3, 12)
    assert (consumer.applied, consumer.parked, consumer.lag) == (3, 1, 0)


def test_a_message_that_cannot_be_applied_nor_parked_goes_out_as_a_dead_letter(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    bus.fail = lambda _ids: int("not a number")
    receive(client, 1)
    consumer.start()
    wait_for(lambda: client.acked == [1])
    assert [(t, body["reason"]) for t, body in client.published] == [
        ("shopfloor/_deadletter/tracker", "apply_failed")
    ]
    assert consumer.rejected == {"apply_failed": 1}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" * 3000 + b"]" * 3000, "invalid_json"),
        (b'{"event_id": "e", "type": "cycle", "counter": 9223372036854775808}', "schema"),
        (b'{"event_id": "e\\u0000", "type": "state", "state": "IDLE"}', "bad_identifier"),
        (b'{"event_id": "e\\ud800", "type": "state", "state": "IDLE"}', "schema"),
        (
            b'{"event_id": "e", "type": "job_end", "order_id": "SO 1", "operation": 1}',
            "bad_identifier",
        ),
        (b'{"event_id": "e", "type": "alarm", "code": "X", "message": "\\u0000"}', "bad_text"),
        (b"\xff\xfe", "invalid_json"),
    ],
)
def test_a_message_that_does_not_parse_is_dead_lettered_with_its_reason_and_acknowledged(
    client: AckRecordingClient, consumer: EventConsumer, payload: bytes, reason: str
) -> None:
    receive(client, 1, payload)
    consumer.start()
    wait_for(lambda: client.acked == [1])
    [(topic, body)] = client.published
    assert (topic, body["reason"], body["topic"]) == (
        "shopfloor/_deadletter/tracker",
        reason,
        TOPIC,
    )
    assert set(body) >= {"detail", "received_at"} and ("payload" in body) != (
        "payload_base64" in body
    )
    assert consumer.rejected == {reason: 1}


def test_a_bug_in_parsing_is_an_internal_error_with_a_traceback_id_never_a_stall(
    client: AckRecordingClient, bus: StubBus
) -> None:
    def broken(_machine: str) -> int | None:
        raise KeyError("a bug")

    events = EventConsumer(client, cast(MessageBus, bus), TopicTemplate(DEFAULT_TEMPLATE), broken)
    receive(client, 1)
    events.start()
    try:
        wait_for(lambda: client.acked == [1])
    finally:
        events.stop(timeout_s=5)
    [(_topic, body)] = client.published
    assert body["reason"] == "internal_error" and body["detail"].startswith("traceback ")


@pytest.mark.parametrize(
    "topic",
    [
        "shopfloor/p1/l1/" + "m" * 101 + "/event",
        "shopfloor/" + "s" * 129 + "/l1/saw-1/event",
        "shopfloor/p1/l\x01/saw-1/event",
        "shopfloor/p1/l1/saw 1/event",
        "shopfloor/p1/l1/saw\u200b1/event",
    ],
)
def test_an_identifier_from_the_topic_out_of_bounds_is_rejected(
    consumer: EventConsumer, topic: str
) -> None:
    body = b'{"event_id": "e1", "type": "state", "state": "IDLE"}'
    assert consumer.parse(topic, body).reason == "bad_identifier"
    assert consumer.parse(TOPIC, body).command is not None


def test_lag_and_the_oldest_unacknowledged_age_count_what_is_not_settled(
    client: AckRecordingClient, consumer: EventConsumer
) -> None:
    assert (consumer.lag, consumer.oldest_unacked_s()) == (0, 0.0)
    for mid in (1, 2, 3):
        receive(client, mid)
    assert consumer.lag == 3 and consumer.oldest_unacked_s() > 0
    consumer.start()
    wait_for(lambda: consumer.lag == 0)
    assert consumer.oldest_unacked_s() == 0.0


def test_messages_of_a_previous_connection_are_not_acknowledged_on_the_next(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    on_connect: Any = client.on_connect
    success = ReasonCode(PacketTypes.CONNACK, "Success")
    on_connect(client, None, {}, success, None)
    receive(client, 1)
    on_connect(client, None, {}, success, None)  # reconnected: the broker sends mid 1 again
    receive(client, 1)
    consumer.start()
    wait_for(lambda: len(bus.batches) == 1)
    wait_for(lambda: client.acked == [1])
    assert bus.batches == [["e1", "e1"]]


def test_stop_finishes_the_batch_in_hand_and_leaves_the_rest_unacknowledged(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    def stop_meanwhile(_ids: list[str]) -> None:
        threading.Thread(target=consumer.stop).start()
        wait_for(consumer.worker.stopping.is_set)
        receive(client, 2)  # arrives while the first batch is being applied

    bus.fail = stop_meanwhile
    receive(client, 1)
    consumer.start()
    wait_for(lambda: not consumer.worker.running)
    assert client.acked == [1]
    assert bus.batches == [["e1"]]


def test_what_a_stopped_worker_leaves_to_the_broker_is_not_counted_as_waiting(
    client: AckRecordingClient, bus: StubBus, consumer: EventConsumer
) -> None:
    def down(_ids: list[str]) -> None:
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    bus.fail = down
    receive(client, 1)
    consumer.start()
    wait_for(lambda: consumer.failures >= 1)
    assert consumer.lag == 1
    consumer.stop(timeout_s=5)
    assert (client.acked, consumer.lag, consumer.oldest_unacked_s()) == ([], 0, 0.0)


def test_event_ids_and_alarm_codes_may_hold_spaces_and_slashes_never_in_a_topic(
    consumer: EventConsumer,
) -> None:
    body = {"event_id": "2026-03-02 08:00/7", "type": "alarm", "code": "E-STOP pressed"}
    assert consumer.parse(TOPIC, json.dumps(body).encode()).command is not None
    body["code"] = "E-STOP\u0007"
    assert consumer.parse(TOPIC, json.dumps(body).encode()).reason == "bad_identifier"


def test_subscribed_is_set_once_the_broker_grants_the_subscription_and_cleared_on_a_drop(
    client: AckRecordingClient, consumer: EventConsumer
) -> None:
    on_connect: Any = client.on_connect
    on_subscribe: Any = client.on_subscribe
    on_disconnect: Any = client.on_disconnect
    on_connect(client, None, {}, ReasonCode(PacketTypes.CONNACK, "Success"), None)
    assert not consumer.wait_subscribed(0)
    on_subscribe(client, None, 1, [ReasonCode(PacketTypes.SUBACK, "Not authorized")], None)
    assert not consumer.wait_subscribed(0)  # refused: nothing will arrive
    on_subscribe(client, None, 2, [ReasonCode(PacketTypes.SUBACK, "Granted QoS 1")], None)
    assert consumer.wait_subscribed(0)
    on_disconnect(client, None, {}, ReasonCode(PacketTypes.DISCONNECT, "Success"), None)
    assert not consumer.wait_subscribed(0)


def test_an_event_without_a_timestamp_takes_its_arrival_from_the_trackers_clock(
    client: AckRecordingClient, bus: StubBus
) -> None:
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    events = EventConsumer(
        client, cast(MessageBus, bus), TopicTemplate(DEFAULT_TEMPLATE), clock=lambda: at
    )
    body = b'{"event_id": "e1", "type": "state", "state": "IDLE"}'
    command = events.parse(TOPIC, body).command
    assert isinstance(command, commands.SetMachineState) and command.at == at

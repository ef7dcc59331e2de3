"""Machine events from MQTT become commands on the bus; acknowledged once applied."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineEvent,
    PayloadError,
    StateEvent,
    parse_event,
)
from shopfloor.contract.topics import EVENT, TopicTemplate
from tracker.domain import commands
from tracker.domain.model import DomainError
from tracker.service_layer.bus import MessageBus

log = logging.getLogger(__name__)


def to_command(
    machine_id: str, event: MachineEvent, arrival: datetime, counter_wrap: int | None = None
) -> commands.Command | None:
    """The command a machine event asks for; `counter_wrap` is the machine's counter modulus."""
    at = event.ts or arrival
    match event:
        case JobStartEvent():
            return commands.StartJob(
                machine_id, event.event_id, event.order_id, event.operation, at
            )
        case JobEndEvent():
            return commands.EndJob(machine_id, event.event_id, event.order_id, event.operation, at)
        case CycleEvent():
            return commands.RecordCycle(
                machine_id,
                event.event_id,
                event.counter,
                at,
                event.cycle_time_s,
                event.order_id,
                event.operation,
                event.scrap_counter,
                counter_wrap,
            )
        case StateEvent():
            return commands.SetMachineState(machine_id, event.event_id, event.state.value, at)
        case AlarmEvent():
            return commands.RecordAlarm(machine_id, event.event_id, event.code, event.message, at)
    return None


class EventConsumer:
    """Subscribes to machine events at QoS 1; a bad payload is logged and counted, never fatal."""

    def __init__(
        self,
        client: mqtt.Client,
        bus: MessageBus,
        template: TopicTemplate,
        counter_wrap: Callable[[str], int | None] = lambda _machine: None,
    ) -> None:
        self._client = client
        self._bus = bus
        self._template = template
        self._counter_wrap = counter_wrap
        self.rejected: Counter[str] = Counter()
        self.applied = 0
        client.on_connect = self._on_connect
        client.on_message = self._on_message

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        client.subscribe(self._template.subscription(EVENT), qos=1)
        log.info("tracker subscribed to %s", self._template.subscription(EVENT))

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            self.handle(msg.topic, bytes(msg.payload))
        except Exception:
            # the database is unreachable or a bug: keep the message unacknowledged so the broker
            # delivers it again after a reconnect, and keep the client alive
            log.exception("could not apply event on %s; left unacknowledged", msg.topic)
            return
        client.ack(msg.mid, msg.qos)

    def handle(self, topic: str, payload: bytes) -> None:
        """Apply one message; rejects are counted and logged, database errors propagate."""
        tags = self._template.match(topic)
        if tags is None or tags.get("kind") != EVENT:
            self._reject(topic, "unknown_topic", "topic does not match the template")
            return
        try:
            event = parse_event(payload)
        except PayloadError as exc:
            self._reject(topic, exc.reason, exc.detail)
            return
        machine = tags["machine"]
        cmd = to_command(machine, event, datetime.now(UTC), self._counter_wrap(machine))
        if cmd is None:
            return
        try:
            self._bus.handle(cmd)
            self.applied += 1
        except DomainError as exc:
            self._reject(topic, "domain", str(exc))

    def _reject(self, topic: str, reason: str, detail: str) -> None:
        self.rejected[reason] += 1
        log.warning("event on %s rejected (%s): %s", topic, reason, detail)

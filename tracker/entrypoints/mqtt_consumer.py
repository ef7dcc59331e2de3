"""Machine events from MQTT become commands on the bus, in batches; acknowledged once committed."""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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

BATCH_SIZE = 500  # messages applied in one transaction at most
# the database is down, locked or the connection dropped: worth trying the same batch again
_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
_BACKOFF_S, _BACKOFF_MAX_S = 0.5, 30.0


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
                bool(event.baseline),
            )
        case StateEvent():
            return commands.SetMachineState(machine_id, event.event_id, event.state.value, at)
        case AlarmEvent():
            return commands.RecordAlarm(machine_id, event.event_id, event.code, event.message, at)
    return None


@dataclass(frozen=True)
class Incoming:
    """One received message, parsed: its command, or why it is rejected (`reason`, `detail`)."""

    topic: str
    command: commands.Command | None = None
    reason: str = ""
    detail: str = ""
    mid: int = 0
    qos: int = 0
    connection: int = 0  # which connection it came on: a PUBACK only makes sense on that one


class EventConsumer:
    """Subscribes to machine events at QoS 1; a bad payload is logged and counted, never fatal."""

    # paho's network thread only parses and queues; the worker (`start()`) applies what has
    # arrived, up to `batch_size` messages, in one transaction, then acknowledges it

    def __init__(
        self,
        client: mqtt.Client,
        bus: MessageBus,
        template: TopicTemplate,
        counter_wrap: Callable[[str], int | None] = lambda _machine: None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._client = client
        self._bus = bus
        self._template = template
        self._counter_wrap = counter_wrap
        self.batch_size = batch_size
        self.rejected: Counter[str] = Counter()
        self.applied = 0  # messages applied or found already applied
        self.redelivered = 0  # of those, events applied before: nothing changed
        self.failures = 0  # attempts at a batch that failed (database down, a bug)
        self._queue: queue.SimpleQueue[Incoming | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._ack_lock = threading.Lock()
        self._connection = 0
        client.on_connect = self._on_connect
        client.on_message = self._on_message

    # -- paho's network thread --------------------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        with self._ack_lock:
            # messages of the last connection still queued are not acknowledged any more: the
            # broker sends them again on this one, where their packet ids may be reused
            self._connection += 1
        client.subscribe(self._template.subscription(EVENT), qos=1)
        log.info("tracker subscribed to %s", self._template.subscription(EVENT))

    def _on_message(self, _client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            parsed = self.parse(msg.topic, bytes(msg.payload))
        except Exception:
            # a bug, not a bad payload: keep paho's thread alive and leave the message
            # unacknowledged, so the broker delivers it again after a reconnect
            log.exception("could not parse the message on %s; left unacknowledged", msg.topic)
            return
        self._queue.put(replace(parsed, mid=msg.mid, qos=msg.qos, connection=self._connection))

    # -- parsing and applying ---------------------------------------------------------------
    def parse(self, topic: str, payload: bytes) -> Incoming:
        """The message's command, or why it is rejected; touches no database."""
        tags = self._template.match(topic)
        if tags is None or tags.get("kind") != EVENT:
            return Incoming(
                topic, reason="unknown_topic", detail="topic does not match the template"
            )
        try:
            event = parse_event(payload)
        except PayloadError as exc:
            return Incoming(topic, reason=exc.reason, detail=exc.detail)
        machine = tags["machine"]
        return Incoming(
            topic, to_command(machine, event, datetime.now(UTC), self._counter_wrap(machine))
        )

    def apply(self, batch: Sequence[Incoming]) -> None:
        """Apply a batch in one transaction, then count its rejects; database errors propagate."""
        cmds = [m.command for m in batch if m.command is not None]
        outcomes = iter(self._bus.handle_batch(cmds))
        for message in batch:
            if message.command is None:
                if message.reason:
                    self._reject(message.topic, message.reason, message.detail)
                continue
            outcome = next(outcomes)
            if isinstance(outcome, DomainError):
                self._reject(message.topic, "domain", str(outcome))
                continue
            self.applied += 1
            if outcome is False:
                self.redelivered += 1

    def handle(self, topic: str, payload: bytes) -> None:
        """Apply one message; rejects are counted and logged, database errors propagate."""
        self.apply([self.parse(topic, payload)])

    def _reject(self, topic: str, reason: str, detail: str) -> None:
        self.rejected[reason] += 1
        log.warning("event on %s rejected (%s): %s", topic, reason, detail)

    # -- the worker -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread that applies and acknowledges queued messages."""
        self._stopping.clear()
        self._worker = threading.Thread(target=self._run, name="tracker-events", daemon=True)
        self._worker.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the batch in hand; what is still queued stays unacknowledged for the broker."""
        self._stopping.set()
        self._queue.put(None)  # wakes the worker if it waits for messages
        if self._worker is not None:
            self._worker.join(timeout_s)
            if self._worker.is_alive():
                log.warning("event worker still busy after %.0f s; left behind", timeout_s)
            self._worker = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if batch:
                self._apply_and_ack(batch)

    def _next_batch(self) -> list[Incoming]:
        """What has arrived, up to `batch_size`; waits only while nothing has."""
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                break
            batch.append(item)
        return batch

    def _apply_and_ack(self, batch: list[Incoming]) -> None:
        """Apply, then acknowledge in receive order; on a database error, pause and retry."""
        delay = _BACKOFF_S
        while True:
            try:
                self.apply(batch)
            except _TRANSIENT:
                self.failures += 1
                log.exception(
                    "could not apply %d events (database); unacknowledged, retrying in %.1f s",
                    len(batch),
                    delay,
                )
                if self._stopping.wait(delay):
                    return  # stopping: the broker keeps them for the next session
                delay = min(delay * 2, _BACKOFF_MAX_S)
                continue
            except Exception:
                self.failures += 1
                if len(batch) == 1:
                    # as if it never arrived: the broker sends it again after a reconnect
                    log.exception("could not apply the event on %s; unacknowledged", batch[0].topic)
                    return
                # one message may be at fault: apply them one at a time to keep the others
                log.exception("could not apply %d events; applying them one by one", len(batch))
                for message in batch:
                    self._apply_and_ack([message])
                return
            self._ack(batch)
            return

    def _ack(self, batch: list[Incoming]) -> None:
        with self._ack_lock:
            for message in batch:
                if message.connection == self._connection:
                    self._client.ack(message.mid, message.qos)

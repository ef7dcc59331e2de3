"""Machine events from MQTT become commands on the bus, in batches; acknowledged once committed,
rejected (dead-lettered) or parked: a message never blocks the ones after it."""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from shopfloor.contract.topics import EVENT, TopicTemplate, dead_letter_topic
from shopfloor.failures import OnceLog
from tracker.domain.model import DomainError
from tracker.service_layer.bus import MessageBus

from .event_acks import Unsettled
from .event_messages import Incoming, dead_letter, parse_message, refused, to_command
from .event_worker import EventWorker, Park

log = logging.getLogger(__name__)

__all__ = ["BATCH_SIZE", "DEAD_LETTER_TOPIC", "EventConsumer", "Incoming", "to_command"]

BATCH_SIZE = 500  # messages applied in one transaction at most
DEAD_LETTER_TOPIC = dead_letter_topic("tracker")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EventConsumer:
    """Subscribes to machine events at QoS 1; a bad payload is rejected, counted and
    dead-lettered, an event that cannot be applied is parked: never fatal, never blocking."""

    # paho's network thread only parses and queues; the worker (`start()`, event_worker.py)
    # applies what has arrived, up to `batch_size` messages, in one transaction, then
    # acknowledges it

    def __init__(
        self,
        client: mqtt.Client,
        bus: MessageBus,
        template: TopicTemplate,
        counter_wrap: Callable[[str], int | None] = lambda _machine: None,
        batch_size: int = BATCH_SIZE,
        park: Park | None = None,
        attempts: int = 3,
        clock: Callable[[], datetime] = _utc_now,  # the tracker hands its own: Tracker.clock
        share_group: str | None = None,  # several trackers: each event to one of them
    ) -> None:
        self._client = client
        plain = template.subscription(EVENT)
        self.subscription = f"$share/{share_group}/{plain}" if share_group else plain
        # a session kept from before the share group would still deliver every event
        self._dropped = plain if share_group else None
        self._bus = bus
        self._template = template
        self._counter_wrap = counter_wrap
        self._clock = clock
        self.rejected: Counter[str] = Counter()
        self.applied = 0  # messages applied or found already applied
        self.redelivered = 0  # of those, events applied before: nothing changed
        self._queue: queue.SimpleQueue[Incoming | None] = queue.SimpleQueue()
        self._unsettled = Unsettled(client)
        self._once = OnceLog(log)
        self.worker = EventWorker(
            self._queue,
            self._unsettled,
            self.apply,
            self._reject,
            batch_size=batch_size,
            attempts=attempts,
            park=park,
            clock=clock,
            once=self._once,
        )
        # set once the broker has granted the subscription on the current connection
        self.subscribed = threading.Event()
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message

    def wait_subscribed(self, timeout_s: float | None = None) -> bool:
        """Wait until the broker has granted the subscription on the current connection;
        False if it has not within `timeout_s`."""
        return self.subscribed.wait(timeout_s)

    # -- paho's network thread --------------------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        self._unsettled.reconnected()
        self.subscribed.clear()
        if self._dropped is not None:
            client.unsubscribe(self._dropped)
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _mid: int, rcs: list[ReasonCode], _p: object = None
    ) -> None:
        refused_by = [str(rc) for rc in rcs if rc.is_failure]
        if refused_by:
            log.error("broker refused the subscription to events: %s", refused_by)
            return
        self.subscribed.set()
        # tests and operators wait for this line: it means the broker has the subscription
        log.info("tracker subscribed to %s", self.subscription)

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, _rc: ReasonCode, _p: object = None
    ) -> None:
        self.subscribed.clear()

    def _on_message(self, _client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        topic = msg._topic.decode(errors="replace")  # paho's `topic` raises on bad UTF-8
        parsed = self.parse(topic, bytes(msg.payload))
        seq = self._unsettled.arrived()
        connection = self._unsettled.connection
        self._queue.put(replace(parsed, seq=seq, mid=msg.mid, qos=msg.qos, connection=connection))

    # -- parsing and applying ---------------------------------------------------------------
    def parse(self, topic: str, payload: bytes, arrival: datetime | None = None) -> Incoming:
        """The message's command, or why it is rejected; touches no database, never raises."""
        try:
            when = self._clock() if arrival is None else arrival
            return parse_message(self._template, topic, payload, when, self._counter_wrap)
        except Exception as exc:  # a bug, not a bad payload: it must not stop the stream
            tid = self._once.failed("parse", exc, "could not parse the message on %s", topic)
            return refused(topic, payload, "internal_error", f"traceback {tid} in the tracker log")

    def apply(self, batch: Sequence[Incoming]) -> None:
        """Apply a batch in one transaction, then count its rejects; database errors propagate."""
        cmds = [m.command for m in batch if m.command is not None]
        outcomes = iter(self._bus.handle_batch(cmds))
        for message in batch:
            if message.command is None:
                if message.reason:
                    self._reject(message)
                continue
            outcome = next(outcomes)
            if isinstance(outcome, DomainError):
                self._reject(replace(message, reason="domain", detail=str(outcome)))
                continue
            self.applied += 1
            if outcome is False:
                self.redelivered += 1

    def replay(self, topic: str, payload: bytes, arrival: datetime) -> str | None:
        """Apply one parked message now: None once applied (or found applied before), else
        why it is refused; any failure to apply propagates."""
        message = self.parse(topic, payload, arrival)
        if message.command is None:
            return f"{message.reason}: {message.detail}"
        outcome = self._bus.handle_batch([message.command])[0]
        if isinstance(outcome, DomainError):
            return f"domain: {outcome}"
        return None

    def failed_replay(self, topic: str, exc: Exception) -> str:
        """Log a replay that failed (its traceback once per cause); the traceback id."""
        return self._once.failed("apply", exc, "could not replay the event on %s", topic)

    def _reject(self, message: Incoming) -> None:
        self.rejected[message.reason] += 1
        log.warning("event on %s rejected (%s): %s", message.topic, message.reason, message.detail)
        try:
            body = dead_letter(message, self._clock())
            self._client.publish(DEAD_LETTER_TOPIC, body, qos=1)
        except Exception as exc:  # the dead letter is a courtesy: its failure stops nothing
            self._once.failed("dead-letter", exc, "could not publish a dead letter")

    # -- what the worker stands at ----------------------------------------------------------
    @property
    def lag(self) -> int:
        """Messages received and not yet applied, rejected or parked."""
        return len(self._unsettled)

    def oldest_unacked_s(self) -> float:
        """Age of the oldest message received and not yet settled; 0 when there is none."""
        return self._unsettled.oldest_s()

    # -- the worker -------------------------------------------------------------------------
    @property
    def failures(self) -> int:
        """Attempts at a batch that failed (database down, a bug)."""
        return self.worker.failures

    @property
    def parked(self) -> int:
        """Messages parked by this process."""
        return self.worker.parked

    def start(self) -> None:
        """Start the worker thread that applies and acknowledges queued messages."""
        self.worker.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the batch in hand; what is still queued stays unacknowledged for the broker."""
        self.worker.stop(timeout_s)

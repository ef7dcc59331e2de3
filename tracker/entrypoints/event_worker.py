"""The tracker's event worker: applies what has arrived in batches, one transaction each, and
acknowledges it after the commit; waits out a database that is down, isolates a message that
fails otherwise by halving its batch, then parks it (or dead-letters it, with nowhere to park)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from shopfloor.failures import OnceLog
from tracker.adapters.database_errors import transient
from tracker.adapters.parked import failure_reason

from .event_acks import Unsettled
from .event_messages import Incoming

log = logging.getLogger(__name__)

_BACKOFF_S, _BACKOFF_MAX_S = 0.5, 30.0

# stores a message that could not be applied: (topic, payload, reason, traceback id,
# attempts, when) -> its id
Park = Callable[[str, bytes, str, str, int, datetime], int]


class EventWorker:
    """The thread between the queue paho's network thread fills and the bus."""

    def __init__(
        self,
        incoming: queue.SimpleQueue[Incoming | None],
        unsettled: Unsettled,
        apply: Callable[[Sequence[Incoming]], None],
        reject: Callable[[Incoming], None],
        *,
        batch_size: int,
        attempts: int,
        park: Park | None,
        clock: Callable[[], datetime],
        once: OnceLog,
    ) -> None:
        self._incoming = incoming
        self._unsettled = unsettled
        self._apply = apply  # applies a batch in one transaction; database errors propagate
        self._reject = reject  # counts and dead-letters a message
        self.batch_size = batch_size
        self.attempts = attempts  # tries at a message failing other than on the database
        self.park = park
        self._clock = clock
        self._once = once
        self.failures = 0  # attempts at a batch that failed (database down, a bug)
        self.parked = 0  # messages parked by this process
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Started and not yet stopped."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread that applies and acknowledges queued messages."""
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name="tracker-events", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Finish the batch in hand; what is still queued stays unacknowledged for the broker."""
        self.stopping.set()
        self._incoming.put(None)  # wakes the thread if it waits for messages
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("event worker still busy after %.0f s; left behind", timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self.stopping.is_set():
            batch = self._next_batch()
            if batch and not self._apply_and_ack(batch):
                self._unsettled.settle(batch)  # left to the broker, which sends them again

    def _next_batch(self) -> list[Incoming]:
        """What has arrived, up to `batch_size`; waits only while nothing has."""
        first = self._incoming.get()
        if first is None:
            return []
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                item = self._incoming.get_nowait()
            except queue.Empty:
                break
            if item is None:
                break
            batch.append(item)
        return batch

    def _apply_and_ack(self, batch: list[Incoming]) -> bool:
        """Apply, then acknowledge in receive order; False if stopping left some unsettled.

        A database error pauses and retries the same messages, for as long as it lasts; any
        other failure splits the batch in halves until the message at fault is alone, which
        is tried `attempts` times, then parked.
        """
        delay, tries = _BACKOFF_S, 0
        while True:
            try:
                self._apply(batch)
            except Exception as exc:
                self.failures += 1
                if transient(exc):
                    log.exception(
                        "could not apply %d events (database); unacknowledged, retrying in %.1f s",
                        len(batch),
                        delay,
                    )
                    if self.stopping.wait(delay):
                        return False  # stopping: the broker keeps them for the next session
                    delay = min(delay * 2, _BACKOFF_MAX_S)
                    continue
                if len(batch) > 1:
                    # one message may be at fault: the halves keep the others
                    self._once.failed("apply", exc, "could not apply %d events; split", len(batch))
                    half = len(batch) // 2
                    return self._apply_and_ack(batch[:half]) and self._apply_and_ack(batch[half:])
                tries += 1
                if tries < self.attempts:
                    continue
                return self._park_and_ack(batch[0], exc, tries)
            self._unsettled.ack(batch)
            return True

    def _park_and_ack(self, message: Incoming, exc: Exception, tries: int) -> bool:
        """Store the message that failed `tries` times, then acknowledge it."""
        tid = self._once.failed("apply", exc, "could not apply the event on %s", message.topic)
        reason = failure_reason(exc)
        delay = _BACKOFF_S
        while self.park is not None:
            try:
                parked = self.park(
                    message.topic, message.payload, reason, tid, tries, self._clock()
                )
            except Exception as park_exc:
                if not transient(park_exc):
                    self._once.failed(
                        "park", park_exc, "could not park the event on %s", message.topic
                    )
                    break
                log.exception("could not park the event on %s (database); retrying", message.topic)
                if self.stopping.wait(delay):
                    return False
                delay = min(delay * 2, _BACKOFF_MAX_S)
                continue
            self.parked += 1
            log.warning(
                "event on %s parked as %d after %d attempts: %s [traceback %s]",
                message.topic,
                parked,
                tries,
                reason,
                tid,
            )
            self._unsettled.ack([message])
            return True
        # nowhere to keep it: it goes out as a dead letter, so it is not lost silently
        self._reject(replace(message, reason="apply_failed", detail=f"{reason} [traceback {tid}]"))
        self._unsettled.ack([message])
        return True

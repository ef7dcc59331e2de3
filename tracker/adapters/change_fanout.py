"""What one instance commits reaches every instance's live streams and caches: PostgreSQL
LISTEN/NOTIFY on one channel.

Each commit's `Changes` goes out as NOTIFY payloads (JSON, split to stay under PostgreSQL's
8,000-byte limit) from a thread of its own, so the bus never waits for it; a listener thread
hands what other instances committed to the local feed. A listener that lost its connection
reconnects and tells the feed to resynchronise (the boards reload), since NOTIFY keeps nothing
for a listener that was away.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

from shopfloor.failures import OnceLog
from tracker.service_layer.bus import Changes

from .leadership import conninfo_of

log = logging.getLogger(__name__)

CHANNEL = "shopfloor_changes"
_MAX_PAYLOAD = 7000  # bytes; PostgreSQL refuses 8,000 and over


def encode_changes(sender: str, changes: Changes) -> Iterator[str]:
    """`changes` as NOTIFY payloads of at most `_MAX_PAYLOAD` bytes each."""
    items: list[tuple[str, str | int]] = [("o", i) for i in sorted(changes.orders)]
    items += [("a", i) for i in sorted(changes.alerts)]
    items += [("m", i) for i in sorted(changes.machines)]
    chunk: dict[str, list[Any]] = {}
    size = 0
    for kind, item in items:
        cost = len(json.dumps(item)) + 1
        if chunk and size + cost > _MAX_PAYLOAD:
            yield json.dumps({"i": sender, **chunk})
            chunk, size = {}, 0
        chunk.setdefault(kind, []).append(item)
        size += cost
    if chunk:
        yield json.dumps({"i": sender, **chunk})


def decode_changes(payload: str) -> tuple[str, Changes]:
    """The sender's id and its changes (ValueError, KeyError or TypeError if malformed)."""
    body = json.loads(payload)
    return str(body["i"]), Changes(
        orders=frozenset(str(i) for i in body.get("o", ())),
        alerts=frozenset(int(i) for i in body.get("a", ())),
        machines=frozenset(str(i) for i in body.get("m", ())),
    )


class PgChangeFanout:
    """`send(changes)` from any thread; `deliver` gets what the other instances committed,
    `resync` is called when changes may have been missed."""

    def __init__(
        self,
        database_url: str,
        deliver: Callable[[Changes], None],
        resync: Callable[[], None] = lambda: None,
        retry_s: float = 1.0,
    ) -> None:
        self._conninfo = conninfo_of(database_url)
        self._deliver, self._resync = deliver, resync
        self._retry_s = retry_s
        self.instance = uuid.uuid4().hex[:12]
        self._outbox: queue.SimpleQueue[Changes | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._once = OnceLog(log)
        self.listening = threading.Event()  # set while LISTEN is in effect
        self.received = 0
        self._threads = [
            threading.Thread(target=self._send_loop, name="changes-notify", daemon=True),
            threading.Thread(target=self._listen_loop, name="changes-listen", daemon=True),
        ]

    def send(self, changes: Changes) -> None:
        if changes:
            self._outbox.put(changes)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._outbox.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)

    def _send_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while True:
            changes = self._outbox.get()
            if changes is None:
                break
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                for payload in encode_changes(self.instance, changes):
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
            except psycopg.Error as exc:
                # the other instances' boards miss this change: their caches expire on their own
                self._once.failed("notify", exc, "change notification not sent")
                conn = None
            else:
                self._once.ok("notify")
        if conn is not None:
            conn.close()

    def _listen_loop(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._once.ok("listen")
                    if not first:
                        self._resync()  # what was sent while we were away is lost
                    first = False
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._received(note.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                self._once.failed("listen", exc, "listening for other instances' changes failed")
                self._stop.wait(self._retry_s)

    def _received(self, payload: str) -> None:
        try:
            sender, changes = decode_changes(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("a malformed change notification was ignored: %.200s", payload)
            return
        if sender == self.instance:
            return  # published locally at commit
        self.received += 1
        try:
            self._deliver(changes)
        except Exception:
            log.exception("delivering another instance's changes failed")

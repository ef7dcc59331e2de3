"""Fan-out of what each commit changed to live subscribers (the board's event stream)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from tracker.service_layer.bus import Changes

log = logging.getLogger(__name__)

# what a subscriber gets last when the feed closes (the server is shutting down): the bus never
# publishes an empty Changes, so this one can only mean "end"
END = Changes()


class ChangeFeed:
    """`publish` from any thread; each subscriber gets the changes on its own asyncio queue.

    A subscriber that does not keep up loses changes past `maxsize` and gets a `None` instead,
    meaning "reload everything": a slow board never holds up the tracker. After `close()` every
    subscriber, present or future, gets `END` and should stop.
    """

    def __init__(self, maxsize: int = 1000) -> None:
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._closed = False
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Changes | None]]] = (
            set()
        )
        self._listeners: list[Callable[[Changes], None]] = []

    def listen(self, listener: Callable[[Changes], None]) -> None:
        """Call `listener` with every change, on the publishing thread (it must be quick)."""
        with self._lock:
            self._listeners.append(listener)

    def publish(self, changes: Changes) -> None:
        if not changes:  # nothing changed, and an empty Changes is END
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(changes)
        for loop, queue in self._current():
            try:
                loop.call_soon_threadsafe(_offer, queue, changes)
            except RuntimeError:  # its loop closed: it is going away
                pass

    def resync(self) -> None:
        """Changes may have been missed (another instance's, while not listening): every
        subscriber reloads, as after an overflow."""
        for loop, queue in self._current():
            try:
                loop.call_soon_threadsafe(_reload, queue)
            except RuntimeError:
                pass

    def close(self) -> None:
        """Tell every subscriber to end: open event streams would otherwise hold up shutdown."""
        with self._lock:
            self._closed = True
        for loop, queue in self._current():
            try:
                loop.call_soon_threadsafe(_end, queue)
            except RuntimeError:
                pass

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Changes | None]]:
        """A queue of changes for as long as the context lasts."""
        entry = (asyncio.get_running_loop(), asyncio.Queue[Changes | None](self._maxsize + 1))
        with self._lock:
            self._subscribers.add(entry)
            if self._closed:
                _end(entry[1])
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.discard(entry)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def _current(self) -> list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Changes | None]]]:
        with self._lock:
            return list(self._subscribers)


def _offer(queue: asyncio.Queue[Changes | None], changes: Changes) -> None:
    if queue.qsize() >= queue.maxsize - 1:
        if queue.qsize() < queue.maxsize:
            queue.put_nowait(None)  # overflow: the subscriber reloads
        return
    queue.put_nowait(changes)


def _reload(queue: asyncio.Queue[Changes | None]) -> None:
    if queue.qsize() < queue.maxsize:
        queue.put_nowait(None)


def _end(queue: asyncio.Queue[Changes | None]) -> None:
    # what is still queued no longer matters: the subscriber is about to end
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(END)

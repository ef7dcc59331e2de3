"""The demo's console: on a terminal, the links, the key and a status line kept at the bottom
(rich.live) with the log scrolling above; elsewhere plain lines. A closing summary either way.

A thread polls the tracker's API (and the gateway's count) once a second; demo_status.py says
what the numbers mean.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from .demo_status import Snapshot, status_line, story_over, summary_lines

log = logging.getLogger("launcher.demo")

Poll = Callable[[], Snapshot]


class DemoConsole:
    """Polls `poll` until closed; shows the status on a terminal; prints the summary once."""

    def __init__(
        self,
        header: list[str],
        poll: Poll,
        links: Callable[[], dict[str, str]],
        expected: int,
        tty: bool | None = None,
    ) -> None:
        self._header, self._poll, self._links, self._expected = header, poll, links, expected
        # both: a log sent to a file (2>demo.log) stays there, in plain lines
        self._tty = sys.stdout.isatty() and sys.stderr.isatty() if tty is None else tty
        self._last: Snapshot | None = None
        self._summarised = False
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._streams: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []
        self._thread = threading.Thread(target=self._loop, name="demo-console", daemon=True)

    def _render(self) -> Group:
        status = status_line(self._last) if self._last else "starting..."
        return Group(*(Text(line) for line in self._header), Text(status, style="bold"))

    def __enter__(self) -> DemoConsole:
        if self._tty:
            # redirect: whatever is written to stdout/stderr is printed above the live lines
            self._live = Live(
                self._render(), console=Console(), refresh_per_second=4, redirect_stderr=True
            )
            self._live.start()
            # the log handler holds the stream it was made with; point it at the redirect
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler):
                    self._streams.append((handler, handler.stream))
                    handler.setStream(sys.stderr)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._closed.wait(1.0):
            self.refresh()

    def refresh(self) -> None:
        """Read the numbers now (also called just before the API stops, for the summary)."""
        try:
            snap = self._poll()
        except Exception as exc:  # the API busy or stopping: keep the last numbers
            log.debug("demo status not read: %s", exc)
            return
        with self._lock:
            self._last = snap
            if self._live is not None:
                self._live.update(self._render())
            if story_over(snap, self._expected):
                self._summary(ended=True)

    def _summary(self, ended: bool) -> None:
        if self._summarised or self._last is None:
            return
        self._summarised = True
        text = "\n".join(summary_lines(self._last, self._links(), ended)) + "\n"
        sys.stdout.write(text)
        sys.stdout.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed.set()
        self._thread.join(timeout=15)
        with self._lock:
            if self._live is not None:
                self._live.update(self._render())
                self._live.stop()
            for handler, stream in self._streams:
                handler.setStream(stream)
            self._summary(ended=False)

"""A bounded on-disk FIFO of batches that the store could not take yet, replayed in order."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_SUFFIX = ".lp"


class SpoolFull(Exception):
    """Appending this batch would pass the spool's size limit."""


class Spool:
    """Batches of line protocol as files `<seq>.lp`, written atomically and fsynced.

    A batch appended here is durable: the gateway may acknowledge its MQTT messages. Files
    survive a crash or restart and are replayed oldest first.
    """

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for tmp in directory.glob("*.tmp"):  # a crash mid-append: that batch was never acked
            tmp.unlink()
        self._segments: list[tuple[int, Path, int]] = sorted(
            (int(p.stem), p, p.stat().st_size) for p in directory.glob(f"*{_SUFFIX}")
        )
        self._bytes = sum(size for _, _, size in self._segments)
        self._next = self._segments[-1][0] + 1 if self._segments else 0
        if self._segments:
            log.warning(
                "spool %s holds %d batches (%d bytes) from before; replaying them",
                directory,
                len(self._segments),
                self._bytes,
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._segments)

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    def append(self, lines: list[str]) -> None:
        """Store a batch durably; raise SpoolFull rather than pass the size limit."""
        data = ("\n".join(lines) + "\n").encode()
        # under the lock, so batches land in the order they were appended
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                raise SpoolFull(f"spool at {self._bytes} of {self.max_bytes} bytes")
            seq = self._next
            path = self.directory / f"{seq:016d}{_SUFFIX}"
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            self._next += 1
            self._segments.append((seq, path, len(data)))
            self._bytes += len(data)

    def oldest(self) -> tuple[int, list[str]] | None:
        """The oldest batch (its id and lines), or None when the spool is empty."""
        with self._lock:
            if not self._segments:
                return None
            seq, path, _ = self._segments[0]
        lines = [line for line in path.read_text().split("\n") if line]
        return seq, lines

    def remove(self, seq: int) -> None:
        """Forget a batch once the store has it."""
        with self._lock:
            found = [entry for entry in self._segments if entry[0] == seq]
            if not found:
                return
            self._segments.remove(found[0])
            self._bytes -= found[0][2]
        found[0][1].unlink(missing_ok=True)

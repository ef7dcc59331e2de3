"""Failures logged once per cause: a stable traceback id, the traceback the first time only."""

from __future__ import annotations

import hashlib
import logging
import threading
import traceback

# causes remembered per log; past this the oldest are forgotten (and logged again if they recur)
MAX_CAUSES = 1000


def traceback_id(exc: BaseException) -> str:
    """A short id of where `exc` was raised and its type, the same for every repeat of a cause."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = "|".join(f"{f.filename}:{f.lineno}:{f.name}" for f in frames)
    digest = hashlib.sha256(f"{type(exc).__qualname__}|{where}".encode())
    return digest.hexdigest()[:12]


class OnceLog:
    """Logs a failure with its traceback the first time its cause is seen for a key, then a
    line at most; `ok(key)` forgets the key's causes (the next failure is news again)."""

    def __init__(self, logger: logging.Logger, max_keys: int = MAX_CAUSES) -> None:
        self._log = logger
        self._max = max_keys
        self._seen: dict[str, set[str]] = {}  # key -> traceback ids logged in full
        self._lock = threading.Lock()

    def failed(self, key: str, exc: BaseException, message: str, *args: object) -> str:
        """Log `message % args` for `exc` under `key` (traceback once per cause); its id."""
        tid = traceback_id(exc)
        with self._lock:
            causes = self._seen.setdefault(key, set())
            new = tid not in causes
            causes.add(tid)
            while len(self._seen) > self._max:
                del self._seen[next(iter(self._seen))]
        if new:
            self._log.error(
                message + " [traceback %s]",
                *args,
                tid,
                exc_info=(type(exc), exc, exc.__traceback__),
            )
        else:
            self._log.debug(message + " [traceback %s, logged before]", *args, tid)
        return tid

    def ok(self, key: str) -> None:
        """`key` works again: its next failure is logged in full."""
        if key in self._seen:
            with self._lock:
                self._seen.pop(key, None)

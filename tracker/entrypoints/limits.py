"""Request limits: token buckets per key (rate limiting) and a body-size cap (ASGI middleware)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class TokenBuckets:
    """One token bucket per key: `rate` tokens a second, up to `burst`; thread-safe.

    Memory is bounded: a bucket idle long enough to be full again is the same as no bucket
    and is dropped, and past `max_keys` the least recently used ones go first.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate, self.burst, self.max_keys = rate, float(burst), max_keys
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (tokens, when counted); least recently used first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one token: 0.0 when there was one, else the seconds until there is."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            self._evict(now)
            return wait

    def wait(self, key: str) -> float:
        """Seconds until `key` has a token (0.0: it has one now), taking none."""
        with self._lock:
            entry = self._buckets.get(key)
            if entry is None:
                return 0.0
            tokens, at = entry
            tokens = min(self.burst, tokens + (self._clock() - at) * self.rate)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        refill_s = self.burst / self.rate
        while self._buckets:
            key, (_tokens, at) = next(iter(self._buckets.items()))
            if now - at < refill_s and len(self._buckets) <= self.max_keys:
                return
            del self._buckets[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)


# looks at a whole body before the app does: (status, JSON answer) to refuse it, None to go on
BodyCheck = Callable[[Scope, bytes], "tuple[int, dict[str, Any]] | None"]


def too_many(wait_s: float, detail: str) -> HTTPException:
    """429 with `Retry-After`: the whole seconds until a token is back (at least 1)."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=detail,
        headers={"Retry-After": str(max(1, math.ceil(wait_s)))},
    )


class BodyLimit:
    """Pure ASGI middleware: a request body over its path's limit answers 413 before the app
    sees any of it, whether Content-Length says so or the streamed bytes do.

    The body (at most the limit) is read whole before the app is called, so nothing can be
    half-parsed or half-written when the limit is passed; `check` then may refuse it.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        per_path: Mapping[str, int] | None = None,
        check: BodyCheck | None = None,
    ):
        self.app, self.max_bytes, self.per_path = app, max_bytes, dict(per_path or {})
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refused = self.check(scope, body) if self.check is not None else None
        if refused is not None:
            await answer(send, *refused)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # later calls wait for the disconnect, as the server's own would
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    await answer(send, 413, {"detail": f"request body larger than {limit} bytes"})


async def answer(send: Send, status: int, content: dict[str, Any]) -> None:
    """A JSON answer from the middleware itself, closing the connection."""
    body = json.dumps(content, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

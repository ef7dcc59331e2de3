"""Token buckets and the body-size middleware, driven without a server."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tracker.entrypoints.limits import BodyLimit, TokenBuckets


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait() -> None:
    clock = Ticker()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # each key has its own bucket
    clock.now = 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)


def test_wait_tells_how_long_until_a_token_without_taking_one() -> None:
    clock = Ticker()
    buckets = TokenBuckets(rate=0.5, burst=2, clock=clock)
    assert buckets.wait("a") == 0.0 and len(buckets) == 0  # no bucket yet: a full one
    buckets.take("a")
    assert buckets.wait("a") == 0.0
    buckets.take("a")
    assert buckets.wait("a") == pytest.approx(2.0)
    assert buckets.wait("a") == pytest.approx(2.0)  # asking took nothing
    clock.now = 1.5
    assert buckets.wait("a") == pytest.approx(0.5)
    clock.now = 2.0
    assert buckets.wait("a") == 0.0


def test_idle_buckets_are_dropped_and_the_number_of_keys_is_bounded() -> None:
    clock = Ticker()
    buckets = TokenBuckets(rate=1.0, burst=2, max_keys=100, clock=clock)
    for i in range(50):
        buckets.take(f"k{i}")
    assert len(buckets) == 50
    clock.now = 2.0  # full again: the same as no bucket
    buckets.take("new")
    assert len(buckets) == 1
    for i in range(500):
        buckets.take(f"flood{i}")
    assert len(buckets) == 100


def test_buckets_are_safe_across_threads() -> None:
    buckets = TokenBuckets(rate=0.001, burst=1000, clock=Ticker())
    allowed: list[int] = []

    def take() -> None:
        allowed.append(sum(1 for _ in range(500) if buckets.take("shared") == 0.0))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 1000


def _run(limit: int, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, bytes]:
    """Send a request through BodyLimit to an app that echoes the body's size."""
    sent: list[dict[str, Any]] = []
    called: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        called.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(message["body"])).encode()})

    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/x", "headers": headers}
    asyncio.run(BodyLimit(app, limit)(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    status, body = _run(10, [(b"content-length", b"11")], [b"x" * 11])
    assert status == 413 and b"larger than 10 bytes" in body


def test_a_streamed_body_over_the_limit_is_refused_and_the_app_never_runs() -> None:
    status, _ = _run(10, [], [b"x" * 6, b"x" * 6])
    assert status == 413


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    assert _run(10, [], [b"x" * 4, b"x" * 6]) == (200, b"10")
    assert _run(10, [(b"content-length", b"10")], [b"x" * 10]) == (200, b"10")

"""The web side on a real database and broker: the live event stream and the pages."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.served import Running, events
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.entrypoints import web
from tracker.service_layer.bus import Changes

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "w" * 16


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make_tracker(KEY)


@pytest.fixture
def running(tracker: Tracker) -> Iterator[Running]:
    server = Running(tracker)
    yield server
    if server.thread.is_alive():
        server.stop()


def _stream(url: str, key: str | None = KEY) -> Any:
    headers = {"X-API-Key": key} if key else {}
    return httpx.stream("GET", f"{url}/api/v1/events", headers=headers, timeout=10)


def _order(order_id: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer": "ACME",
        "product": "bracket",
        "quantity": 10,
        "due_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "operations": [
            {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 60, "cycle_s": 30},
            {"seq": 20, "name": "weld", "machine": "weld-1", "setup_s": 60, "cycle_s": 40},
        ],
    }


def test_a_commit_comes_as_a_change_event_with_the_ids_and_their_state(
    running: Running,
) -> None:
    with _stream(running.url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        name, snapshot = next(stream)
        assert name == "snapshot" and snapshot["orders"] == [] and snapshot["alerts"] == []

        created = httpx.post(
            f"{running.url}/api/v1/orders", json=_order("SO-1"), headers={"X-API-Key": KEY}
        )
        assert created.status_code == 201, created.text

        name, change = next(e for e in stream if e[0] != "comment")
        assert name == "change"
        assert change["ids"] == {"orders": ["SO-1"], "alerts": [], "machines": []}
        (order,) = change["orders"]
        assert order["order_id"] == "SO-1" and order["status"] == "released"
        assert order["schedule_status"] == "on_track" and order["percent_complete"] == 0.0
        assert [(op["seq"], op["state"]) for op in order["operations"]] == [
            (10, "active"),
            (20, "pending"),
        ]


def test_a_new_stream_starts_with_a_snapshot_of_open_orders(running: Running) -> None:
    for order_id in ("SO-A", "SO-B"):
        httpx.post(
            f"{running.url}/api/v1/orders", json=_order(order_id), headers={"X-API-Key": KEY}
        )
    with _stream(running.url) as response:
        name, snapshot = next(events(response))
    assert name == "snapshot"
    assert [o["order_id"] for o in snapshot["orders"]] == ["SO-A", "SO-B"]
    assert all(o["eta"] and o["on_time"] is True for o in snapshot["orders"])


def test_the_stream_needs_a_key(running: Running) -> None:
    for key in (None, "wrong-key-" + "x" * 16):
        with _stream(running.url, key) as response:
            response.read()
            assert response.status_code == 401, response.text


def test_a_client_that_falls_behind_gets_reload_and_a_fresh_snapshot(
    tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the first change read blocks, so everything published meanwhile piles up in the queue
    release = threading.Event()
    reading = threading.Event()
    original = web.EventSource.changed

    def slow_changed(self: web.EventSource, changes: Changes) -> dict[str, Any]:
        reading.set()
        assert release.wait(10)
        return original(self, changes)

    monkeypatch.setattr(web.EventSource, "changed", slow_changed)
    running = Running(tracker)
    try:
        with _stream(running.url) as response:
            stream = events(response)
            assert next(stream)[0] == "snapshot"
            tracker.changes.publish(Changes(orders=frozenset({"SO-0"})))
            assert reading.wait(10)
            for i in range(1, 1100):  # more than the feed keeps for one subscriber (1000)
                tracker.changes.publish(Changes(orders=frozenset({f"SO-{i}"})))
            time.sleep(0.5)  # the server's loop queues them
            release.set()
            names = [next(e for e in stream if e[0] != "comment")[0] for _ in range(3)]
        assert names == ["change", "reload", "snapshot"]
    finally:
        release.set()
        running.stop()


def test_a_disconnected_client_is_unsubscribed(running: Running, tracker: Tracker) -> None:
    with _stream(running.url) as response:
        stream = events(response)  # kept: dropping the generator would close the connection
        assert next(stream)[0] == "snapshot"
        assert tracker.changes.subscribers == 1
    wait_for(lambda: tracker.changes.subscribers == 0, "subscription removed", 10)


def test_an_idle_stream_carries_heartbeats(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "HEARTBEAT_S", 0.2)
    with _stream(running.url) as response:
        stream = events(response)
        assert next(stream)[0] == "snapshot"
        assert next(stream) == ("comment", "heartbeat")


def test_stopping_the_server_ends_open_streams(running: Running, tracker: Tracker) -> None:
    with _stream(running.url) as response:
        stream = events(response)
        assert next(stream)[0] == "snapshot"
        started = time.monotonic()
        stopper = threading.Thread(target=running.stop)
        stopper.start()
        assert [e for e in stream if e[0] != "comment"] == []  # the stream just ends
        stopper.join(20)
    assert time.monotonic() - started < 5 and not running.thread.is_alive()
    assert tracker.changes.subscribers == 0


def test_the_board_and_its_files_are_served_without_a_key(client: TestClient) -> None:
    page = client.get("/board")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/board.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name, kind in [
        ("board.js", "text/javascript"),
        ("board_jobs.js", "text/javascript"),
        ("board.css", "text/css"),
        ("board_gantt.js", "text/javascript"),
        ("board_gantt.css", "text/css"),
    ]:
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
    assert client.get("/static/web.py").status_code == 404


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/board", "board.js"),
        ("/track/SO-1", "track.js"),
        ("/operator/saw-1", "operator.js"),
        ("/reports/shift", "shift_report.js"),
    ],
)
def test_every_page_loads_its_translations_first_and_nothing_inline(
    client: TestClient, path: str, script: str
) -> None:
    text = client.get(path).text
    scripts = re.findall(r"<script([^>]*)>", text)
    assert scripts[0] == ' src="/static/i18n.js"', scripts  # t() and LOCALE for what follows
    assert all(s.startswith(' src="/static/') for s in scripts), scripts  # the CSP allows no other
    assert f'<script src="/static/{script}">' in text
    assert "<style" not in text and " style=" not in text


def test_the_tracking_page_is_the_same_for_any_order_and_token(client: TestClient) -> None:
    token = client.post("/api/v1/orders", json=_order("SO-1"), headers={"X-API-Key": KEY}).json()[
        "access_token"
    ]
    pages = [
        client.get(f"/track/SO-1?token={token}"),
        client.get("/track/SO-1?token=wrong"),
        client.get("/track/SO-404"),
    ]
    assert {(p.status_code, p.text) for p in pages} == {(200, pages[0].text)}
    assert pages[0].headers["referrer-policy"] == "no-referrer"  # the token stays on the page
    assert '<script src="/static/track.js">' in pages[0].text

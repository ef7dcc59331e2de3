"""No read waits for the writer: with SQLite's write lock held (a writer's transaction open,
uncommitted), every read endpoint answers at once, because reads go through the read-only
sessions (a plain BEGIN in WAL mode) and never through the writer's (BEGIN IMMEDIATE)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.integration.api_keys import ADMIN, SUPERVISOR, VIEWER, as_, make, order_body
from tests.integration.served import Running, events
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

# a read queued behind the lock would wait for SQLite's 30 s busy timeout; 2 s timed out once
# on a loaded machine (parallel workers)
AT_ONCE_S = 10.0

# (path, key): every read the API and the board make
READS = [
    ("/api/v1/orders", VIEWER),
    ("/api/v1/orders?status=released&machine=saw-1", VIEWER),
    ("/api/v1/orders/SO-1", VIEWER),
    ("/api/v1/orders/SO-9", VIEWER),
    ("/api/v1/alerts", VIEWER),
    ("/api/v1/alerts/1", VIEWER),
    ("/api/v1/machines", VIEWER),
    ("/api/v1/machines/saw-1", VIEWER),
    ("/api/v1/machines/saw-1/unassigned", VIEWER),
    ("/api/v1/machines/saw-1/alarms", VIEWER),
    ("/api/v1/machines/saw-1/jobs", VIEWER),
    ("/api/v1/machines/saw-1/dispatch", VIEWER),
    ("/api/v1/schedule", VIEWER),
    ("/api/v1/me", VIEWER),
    ("/api/v1/dead-letters", ADMIN),
    ("/readyz", VIEWER),
    ("/metrics", VIEWER),
    ("/board", VIEWER),
]


@pytest.fixture
def running(database_url: str, make_tracker: Callable[..., Tracker]) -> Iterator[Running]:
    server = Running(make(make_tracker))
    yield server
    server.stop()


def _held(database_url: str) -> bool:
    """Whether another writer would have to wait (checked without waiting)."""
    probe = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        probe.close()
    return False


# only SQLite has one database-wide write lock that readers could queue behind
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_read_answers_at_once_while_the_writer_holds_the_lock(
    running: Running, database_url: str
) -> None:
    url, tracker = running.url, running.tracker
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    created = httpx.post(
        f"{url}/api/v1/orders", json=order_body("SO-1", due_at=due), headers=as_(SUPERVISOR)
    )
    assert created.status_code == 201, created.text
    token = created.json()["access_token"]
    quote = {k: v for k, v in order_body().items() if k not in ("order_id", "customer")}

    with tracker.sessions() as writer:
        writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock, kept till rollback
        assert _held(database_url)
        with httpx.Client(base_url=url, timeout=AT_ONCE_S) as client:
            for path, key in READS:
                answer = client.get(path, headers=as_(key))
                assert answer.status_code in (200, 404), (path, answer.text)
            progress = client.get(f"/api/v1/orders/SO-1/progress?token={token}")
            assert progress.status_code == 200 and progress.json()["order_id"] == "SO-1"
            quoted = client.post("/api/v1/quotes", json=quote, headers=as_(VIEWER))
            assert quoted.status_code == 200, quoted.text
            with client.stream("GET", "/api/v1/events", headers=as_(VIEWER)) as stream:
                name, snapshot = next(events(stream))
                assert name == "snapshot" and [o["order_id"] for o in snapshot["orders"]] == [
                    "SO-1"
                ]
        writer.rollback()

"""Leadership on a real PostgreSQL advisory lock, change fan-out over LISTEN/NOTIFY, and one
tracker per SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.waiting import wait_for
from tracker.adapters.change_fanout import PgChangeFanout
from tracker.adapters.leadership import (
    AnotherInstanceError,
    PgLeadership,
    SoleInstance,
    conninfo_of,
)
from tracker.service_layer.bus import Changes

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0


class Recorder:
    """A Succession that records what it was told."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.is_leading = threading.Event()

    def elected(self) -> None:
        self.seen.append("elected")

    def leading(self) -> None:
        self.seen.append("leading")
        self.is_leading.set()

    def deposed(self) -> None:
        self.seen.append("deposed")
        self.is_leading.clear()


@pytest.fixture
def instances(pg_url: str) -> Iterator[list[tuple[PgLeadership, Recorder]]]:
    made: list[tuple[PgLeadership, Recorder]] = []
    for _ in range(2):
        recorder = Recorder()
        made.append((PgLeadership(pg_url, "plant-lock-test", TIMEOUT_S, recorder), recorder))
    yield made
    for leadership, _ in made:
        leadership.stop()


def _backend_pids(pg_url: str) -> list[int]:
    with psycopg.connect(conninfo_of(pg_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            ("shopfloor-tracker-leadership",),
        ).fetchall()
    return [row[0] for row in rows]


def test_one_instance_leads_and_the_other_takes_over_when_its_connection_is_terminated(
    pg_url: str, instances: list[tuple[PgLeadership, Recorder]]
) -> None:
    (first, first_seen), (second, second_seen) = instances
    first.start()
    assert first_seen.is_leading.wait(5)
    assert first.is_leader() and first.confirm() and first.role == "leader"
    second.start()
    wait_for(lambda: len(_backend_pids(pg_url)) >= 2, what="both lock connections")
    assert not second.is_leader() and not second.confirm() and second.role == "follower"
    assert first_seen.seen == ["elected", "leading"] and second_seen.seen == []

    # the leader's lock connection is cut (as a network partition would end it)
    with psycopg.connect(conninfo_of(pg_url), autocommit=True) as conn:
        (held,) = conn.execute(
            # this test's database only: other tests (other workers) hold advisory locks too
            "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone() or (None,)
        assert held is not None
        conn.execute("SELECT pg_terminate_backend(%s)", (held,))
    assert second_seen.is_leading.wait(TIMEOUT_S * 2), "the standby did not take over"
    wait_for(lambda: not first.is_leader(), timeout_s=TIMEOUT_S, what="the old leader to step down")
    assert not first.confirm()
    assert first_seen.seen == ["elected", "leading", "deposed"]
    assert second.is_leader() and first.changes == 2 and second.changes == 1


def test_a_stopped_leader_hands_over_at_once(
    instances: list[tuple[PgLeadership, Recorder]],
) -> None:
    (first, first_seen), (second, second_seen) = instances
    first.start()
    assert first_seen.is_leading.wait(5)
    second.start()
    first.stop()
    assert not first.is_leader() and first_seen.seen[-1] == "deposed"
    assert second_seen.is_leading.wait(TIMEOUT_S * 2)


def test_commits_reach_the_other_instance_and_not_the_sender(pg_url: str) -> None:
    got: dict[str, list[Changes]] = {"a": [], "b": []}
    a = PgChangeFanout(pg_url, got["a"].append)
    b = PgChangeFanout(pg_url, got["b"].append)
    for fanout in (a, b):
        fanout.start()
    try:
        assert a.listening.wait(5) and b.listening.wait(5)
        changes = Changes(orders=frozenset({"SO-1"}), machines=frozenset({"saw-1"}))
        a.send(changes)
        wait_for(lambda: got["b"], what="b to hear a's commit")
        assert got["b"] == [changes] and got["a"] == []
    finally:
        for fanout in (a, b):
            fanout.stop()


def test_a_second_tracker_on_one_sqlite_file_is_refused_until_the_first_stops(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    first, second = SoleInstance(url), SoleInstance(url)
    first.start()
    with pytest.raises(AnotherInstanceError, match="another tracker is running"):
        second.claim()
    first.stop()
    second.start()
    second.stop()
    memory = SoleInstance("sqlite://")
    memory.start()
    assert memory.is_leader() and memory.confirm()

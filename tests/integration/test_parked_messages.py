"""Events that parse but cannot be applied, on real SQLite and PostgreSQL and a real broker:
the others beside them are applied, they are parked, listed and replayed by an admin."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.integration.api_keys import ADMIN, VIEWER, as_, make
from tests.waiting import wait_for
from tracker.adapters import orm
from tracker.adapters.database import make_engine
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app

pytestmark = pytest.mark.integration

TOPIC = "shopfloor/p/l/press-1/event"
_SQLITE_TRIGGER = """
CREATE TRIGGER refuse_poison BEFORE INSERT ON alarms WHEN NEW.code = 'POISON'
BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END
"""
_PG_TRIGGER = [
    """
CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN
  IF NEW.code = 'POISON' THEN
    RAISE EXCEPTION 'refused by a test trigger' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
""",
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON alarms FOR EACH ROW"
    " EXECUTE FUNCTION refuse_poison()",
]


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker, check_interval_s=3600, publish_dispatch=False)


@pytest.fixture
def api(tracker: Tracker) -> Iterator[TestClient]:
    with TestClient(create_app(tracker)) as client:
        assert tracker.consumer.wait_subscribed(10), "the tracker's subscription"
        yield client


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _refuse_poison(engine: Engine, refuse: bool) -> None:
    """The database refuses alarms coded POISON (as a bug or a constraint would), or not."""
    with engine.begin() as conn:
        if not refuse:
            conn.exec_driver_sql(
                "DROP TRIGGER refuse_poison" + ("" if _sqlite(engine) else " ON alarms")
            )
        elif _sqlite(engine):
            conn.exec_driver_sql(_SQLITE_TRIGGER)
        else:
            for statement in _PG_TRIGGER:
                conn.exec_driver_sql(statement)


def _sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _alarm(machine: mqtt.Client, event_id: str, code: str = "JAM") -> None:
    body = {"event_id": event_id, "type": "alarm", "code": code, "message": "m"}
    machine.publish(TOPIC, json.dumps(body), qos=1).wait_for_publish(5)


def _park(tracker: Tracker, api: TestClient, machine: mqtt.Client, event_id: str) -> Any:
    """Send an alarm the database refuses; the parked event the API lists for it."""
    parked = tracker.consumer.parked + 1
    _alarm(machine, event_id, code="POISON")
    wait_for(lambda: tracker.consumer.parked == parked, "the event parked", 20)
    rows = api.get("/api/v1/dead-letters", headers=as_(ADMIN)).json()["parked"]
    return next(row for row in rows if json.loads(row["payload"])["event_id"] == event_id)


def _alarms(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(orm.alarms.c.event_id)))


def test_a_poison_event_in_a_batch_is_parked_and_the_events_beside_it_are_applied(
    tracker: Tracker, api: TestClient, engine: Engine, machine: mqtt.Client
) -> None:
    _refuse_poison(engine, True)
    tracker.consumer.stop()  # what arrives meanwhile waits: then it is one batch
    for i in range(10):
        _alarm(machine, f"good-{i}")
        if i == 4:
            _alarm(machine, "bad-1", code="POISON")
    wait_for(lambda: tracker.consumer.lag == 11, "11 events received", 10)
    tracker.consumer.start()
    wait_for(lambda: tracker.consumer.lag == 0, "every event settled", 20)

    assert _alarms(engine) == sorted(f"good-{i}" for i in range(10))
    listed = api.get("/api/v1/dead-letters", headers=as_(ADMIN)).json()
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    [parked] = listed["parked"]
    assert (parked["topic"], json.loads(parked["payload"])["event_id"]) == (TOPIC, "bad-1")
    assert "refused by a test trigger" in parked["reason"] and parked["attempts"] == 3
    assert len(parked["traceback_id"]) == 12
    ready = api.get("/readyz").json()
    assert (ready["status"], ready["parked"], ready["lag"]) == ("ready", 1, 0)
    metrics = api.get("/metrics").text
    assert "shopfloor_tracker_parked_messages 1.0" in metrics
    assert 'shopfloor_tracker_events_total{outcome="parked"} 1.0' in metrics


def test_an_admin_replays_a_parked_event_once_its_cause_is_fixed(
    tracker: Tracker, api: TestClient, engine: Engine, machine: mqtt.Client
) -> None:
    _refuse_poison(engine, True)
    parked = _park(tracker, api, machine, "bad-1")
    replay = f"/api/v1/dead-letters/{parked['id']}/replay"

    assert api.post(replay, headers=as_(VIEWER)).status_code == 403
    still = api.post(replay, headers=as_(ADMIN))
    assert still.status_code == 409 and "still fails" in still.json()["detail"]
    [again] = api.get("/api/v1/dead-letters", headers=as_(ADMIN)).json()["parked"]
    assert again["attempts"] == 4 and again["last_failed_at"] >= parked["last_failed_at"]

    _refuse_poison(engine, False)
    done = api.post(replay, headers=as_(ADMIN))
    assert (done.status_code, done.json()) == (200, {"id": parked["id"], "outcome": "applied"})
    assert _alarms(engine) == ["bad-1"]
    assert api.get("/api/v1/dead-letters", headers=as_(ADMIN)).json()["total"] == 0
    assert api.post(replay, headers=as_(ADMIN)).status_code == 404
    assert api.delete(f"/api/v1/dead-letters/{parked['id']}", headers=as_(ADMIN)).status_code == 404


def test_a_parked_event_the_tracker_now_refuses_answers_409_and_can_be_discarded(
    tracker: Tracker, api: TestClient, engine: Engine, machine: mqtt.Client
) -> None:
    _refuse_poison(engine, True)
    parked = _park(tracker, api, machine, "bad-1")
    # the same event id applied meanwhile by another path: the replay changes nothing
    _refuse_poison(engine, False)
    _alarm(machine, "bad-1")
    wait_for(lambda: _alarms(engine) == ["bad-1"], "the alarm applied", 10)
    done = api.post(f"/api/v1/dead-letters/{parked['id']}/replay", headers=as_(ADMIN))
    assert done.status_code == 200  # found applied before: nothing counted twice
    assert _alarms(engine) == ["bad-1"]

    _refuse_poison(engine, True)
    second = _park(tracker, api, machine, "bad-2")
    with engine.begin() as conn:  # a row that no longer parses (a hand-edited payload)
        conn.execute(orm.parked_messages.update().values(payload=b"{not json"))
    refused = api.post(f"/api/v1/dead-letters/{second['id']}/replay", headers=as_(ADMIN))
    assert refused.status_code == 409 and "invalid_json" in refused.json()["detail"]
    url = f"/api/v1/dead-letters/{second['id']}"
    assert api.delete(url, headers=as_(ADMIN)).status_code == 204
    assert api.get("/api/v1/dead-letters", headers=as_(ADMIN)).json()["total"] == 0

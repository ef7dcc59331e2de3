"""Alerts with their history, machines, the schedule (planned vs actual), health, metrics,
and requests refused before they are read (413) or because of a field (422)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from shopfloor.contract.payloads import JobStartEvent, StateEvent
from tests.integration.api_keys import SUPERVISOR, VIEWER, as_, create, make, wait_planned
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.entrypoints.mqtt_consumer import to_command

pytestmark = pytest.mark.integration


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker, max_body_bytes=2048, import_max_bytes=4096)


def _machine_events(tracker: Tracker, *events: StateEvent | JobStartEvent) -> None:
    for event in events:
        cmd = to_command("saw-1", event, datetime.now(UTC))
        assert cmd is not None
        tracker.bus.handle(cmd)


def _wait_alert(client: TestClient) -> dict[str, object]:
    alerts = wait_for(
        lambda: client.get("/api/v1/alerts", headers=as_(VIEWER)).json(), "an alert", 10
    )
    return dict(alerts[0])


def test_an_alert_shows_its_delivered_versions_and_the_list_filters(client: TestClient) -> None:
    create(client, "SO-L", due_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    create(client, "SO-OK")
    alert = _wait_alert(client)
    assert (alert["order_id"], alert["severity"]) == ("SO-L", "critical")
    ack = client.post(
        f"/api/v1/alerts/{alert['id']}/ack", json={"by": "ann"}, headers=as_(SUPERVISOR)
    )
    assert ack.status_code == 200

    detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=as_(VIEWER)).json()
    assert [(h["version"], h["event"]) for h in detail["history"]] == [
        (1, "raised"),
        (2, "acknowledged"),
    ]
    assert all(h["deliveries"][0]["channel"] == "mqtt" for h in detail["history"])
    assert client.get("/api/v1/alerts/999", headers=as_(VIEWER)).status_code == 404

    def ids(**params: str) -> list[object]:
        found = client.get("/api/v1/alerts", params=params, headers=as_(VIEWER)).json()
        return [a["id"] for a in found]

    assert ids(state="acknowledged", severity="critical", order_id="SO-L") == [alert["id"]]
    assert ids(state="active") == ids(severity="warning") == ids(order_id="SO-OK") == []
    bad = client.get("/api/v1/alerts?state=gone", headers=as_(VIEWER))
    assert bad.status_code == 422 and "state" in bad.json()["detail"][0]["loc"]


def test_machines_list_state_binding_utilisation_and_last_event(
    tracker: Tracker, client: TestClient
) -> None:
    create(client, "SO-1")
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    _machine_events(
        tracker,
        StateEvent(type="state", event_id="s1", ts=t0, state="RUNNING"),  # type: ignore[arg-type]
        JobStartEvent(type="job_start", event_id="j1", ts=t0, order_id="SO-1", operation=10),
    )
    (saw,) = client.get("/api/v1/machines", headers=as_(VIEWER)).json()
    assert (saw["machine_id"], saw["state"], saw["order_id"], saw["seq"]) == (
        "saw-1",
        "RUNNING",
        "SO-1",
        10,
    )
    assert saw["last_seen"] is not None and saw["last_heard_at"] is not None
    assert saw["utilisation"] == 1.0 and saw["seconds"]["RUNNING"] > 0


def test_the_schedule_shows_planned_and_actual_operations_per_machine(
    tracker: Tracker, client: TestClient
) -> None:
    create(client, "SO-1")
    wait_planned(tracker, "SO-1")
    gantt = client.get("/api/v1/schedule", headers=as_(VIEWER)).json()
    assert gantt["plan_made_at"] is not None and gantt["now"] is not None
    lanes = {lane["machine_id"]: lane for lane in gantt["machines"]}
    assert [(p["order_id"], p["seq"], p["name"]) for p in lanes["saw-1"]["planned"]] == [
        ("SO-1", 10, "cut")
    ]
    assert [p["seq"] for p in lanes["weld-1"]["planned"]] == [20]
    assert lanes["saw-1"]["actual"] == []

    _machine_events(
        tracker,
        JobStartEvent(
            type="job_start", event_id="j1", ts=datetime.now(UTC), order_id="SO-1", operation=10
        ),
    )
    saw = client.get("/api/v1/schedule?machine=saw-1", headers=as_(VIEWER)).json()
    assert [lane["machine_id"] for lane in saw["machines"]] == ["saw-1"]
    (actual,) = saw["machines"][0]["actual"]
    assert (actual["order_id"], actual["seq"], actual["state"]) == ("SO-1", 10, "running")
    assert actual["started_at"] is not None and actual["planned_start"] is not None
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    empty = client.get("/api/v1/schedule", params={"from": later}, headers=as_(VIEWER)).json()
    assert empty["machines"] == []
    backwards = client.get(
        "/api/v1/schedule",
        params={"from": later, "to": datetime.now(UTC).isoformat()},
        headers=as_(VIEWER),
    )
    assert backwards.status_code == 422


def test_readyz_names_the_part_that_is_not_ready(tracker: Tracker, client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    # a lone instance leads (on PostgreSQL once it holds the advisory lock)
    # and is ready once its MQTT client is connected and subscribed (a moment after start)
    wait_for(
        lambda: (r := client.get("/readyz").json())["role"] == "leader" and r["status"] == "ready",
        "the lone instance leads and is ready",
    )
    ready = client.get("/readyz").json()
    assert ready.pop("role") == "leader"
    assert ready == {"status": "ready", "database": "ok", "mqtt": "ok", "events": "ok"} | {
        "lag": 0,
        "oldest_unacked_s": 0.0,
        "parked": 0,
    }
    state = client.app.state  # type: ignore[attr-defined]
    parts, gone = state.parts, create_engine("sqlite:////nonexistent-dir/none.db")
    state.parts = replace(parts, read_sessions=sessionmaker(gone))
    try:
        down = client.get("/readyz")
    finally:
        gone.dispose()
        state.parts = parts
    assert down.status_code == 503
    assert down.json()["database"].startswith("failed") and down.json()["mqtt"] == "ok"
    tracker.client.disconnect()
    wait_for(lambda: not tracker.client.is_connected(), "the MQTT connection closed", 5)
    down = client.get("/readyz")
    assert (down.status_code, down.json()["mqtt"], down.json()["database"]) == (
        503,
        "failed: not connected",
        "ok",
    )


def test_metrics_count_requests_by_route_and_status(client: TestClient) -> None:
    create(client, "SO-1")
    client.get("/api/v1/orders/SO-1", headers=as_(VIEWER))
    client.get("/api/v1/orders/SO-2", headers=as_(VIEWER))
    text = client.get("/metrics").text
    assert 'route="/api/v1/orders/{order_id}",status="200"' in text
    assert 'route="/api/v1/orders/{order_id}",status="404"' in text
    assert 'shopfloor_tracker_events_total{outcome="applied"}' in text
    assert "shopfloor_tracker_alerts_raised_total 0.0" in text


def _chunks(data: bytes, size: int = 500) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_a_body_over_the_limit_is_413_and_nothing_is_stored(client: TestClient) -> None:
    big = b'{"order_id": "SO-1", "customer": "' + b"x" * 3000 + b'"}'
    json_type = {**as_(SUPERVISOR), "content-type": "application/json"}
    assert client.post("/api/v1/orders", content=big, headers=json_type).status_code == 413
    streamed = client.post("/api/v1/orders", content=_chunks(big), headers=json_type)
    assert streamed.status_code == 413
    csv = (
        b"order_id,customer,product,quantity,due_at\n" + b"SO-2,A,p,1,2030-01-01T00:00:00Z\n" * 150
    )
    assert len(csv) > 4096
    csv_type = {**as_(SUPERVISOR), "content-type": "text/csv"}
    assert client.post("/api/v1/orders/import", content=csv, headers=csv_type).status_code == 413
    assert client.get("/api/v1/orders", headers=as_(VIEWER)).json()["total"] == 0
    # the import has its own, larger limit
    small_enough = csv[: csv.index(b"\n", 3000) + 1]
    imported = client.post("/api/v1/orders/import", content=small_enough, headers=csv_type)
    assert imported.status_code != 413


def test_a_bad_body_is_422_naming_the_field(client: TestClient) -> None:
    create(client, "SO-1")
    bad = client.post("/api/v1/orders/SO-1/cancel", json={"reason": "   "}, headers=as_(SUPERVISOR))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "reason"]
    bad = client.post("/api/v1/alerts/1/ack", json={"by": "a\u0000b"}, headers=as_(SUPERVISOR))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "by"]

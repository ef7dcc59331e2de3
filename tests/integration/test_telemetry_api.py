"""The machine chart API: a machine's telemetry from the SQLite store the gateway writes, with
its states and alarms from the tracker; bounded ranges; 503 when the store does not answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.points import telemetry_line
from gateway.sinks import SqliteSink
from shopfloor.contract.payloads import AlarmEvent, StateEvent, TelemetryReading
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.entrypoints.mqtt_consumer import to_command
from tracker.settings import TelemetrySettings

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "t" * 16
HEADERS = {"X-API-Key": KEY}
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
URL = "/api/v1/machines/weld-1/telemetry"


def _store(path: Path) -> None:
    sink = SqliteSink(path)
    sink.connect()
    lines = []
    for second in range(3600):
        at = T0 + timedelta(seconds=second)
        values = {"current": 10.0 if second < 1200 else 0.0, "temp": 40.0}
        reading = TelemetryReading(ts=at, values=values)
        lines.append(telemetry_line({"site": "p1", "line": "l1", "machine": "weld-1"}, reading, at))
    sink.write(lines)
    sink.close()


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Tracker:
    _store(tmp_path / "telemetry.db")
    telemetry = TelemetrySettings(kind="sqlite", sqlite_path=tmp_path / "telemetry.db")
    built = make_tracker(KEY, clock=lambda: T0 + timedelta(hours=1), telemetry=telemetry)
    events = [
        StateEvent(type="state", event_id="s1", ts=T0, state="RUNNING"),  # type: ignore[arg-type]
        StateEvent(
            type="state",
            event_id="s2",
            ts=T0 + timedelta(minutes=20),
            state="DOWN",  # type: ignore[arg-type]
        ),
        AlarmEvent(
            type="alarm",
            event_id="a1",
            ts=T0 + timedelta(minutes=20),
            code="WF-204",
            message="wire feed blocked",
        ),
        StateEvent(
            type="state",
            event_id="s3",
            ts=T0 + timedelta(minutes=30),
            state="RUNNING",  # type: ignore[arg-type]
        ),
    ]
    for event in events:
        cmd = to_command("weld-1", event, event.ts or T0, None)
        assert cmd is not None
        built.bus.handle(cmd)
    return built


def test_a_machine_s_channels_come_with_its_states_and_alarms(client: TestClient) -> None:
    params = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat(), "points": 60}
    assert client.get(URL, params=params).status_code == 401
    answer = client.get(URL, params=params, headers=HEADERS).json()
    assert (answer["machine"], answer["bucket_s"]) == ("weld-1", 60)
    assert answer["from"] == "2026-03-02T08:00:00Z"
    current = answer["channels"]["current"]
    assert len(current) == 60 and current[0] == [T0.timestamp(), 10.0]
    assert current[20] == [T0.timestamp() + 1200, 0.0]
    assert [(s["state"], s["from"][11:16], s["to"][11:16]) for s in answer["states"]] == [
        ("RUNNING", "08:00", "08:20"),
        ("DOWN", "08:20", "08:30"),
        ("RUNNING", "08:30", "09:00"),
    ]
    (alarm,) = answer["alarms"]
    assert (alarm["code"], alarm["message"]) == ("WF-204", "wire feed blocked")


def test_named_channels_only_and_the_last_8_hours_by_default(client: TestClient) -> None:
    answer = client.get(URL, params={"channels": "temp,nope"}, headers=HEADERS).json()
    assert sorted(answer["channels"]) == ["nope", "temp"]
    assert answer["channels"]["nope"] == []
    assert answer["from"] == "2026-03-02T01:00:00Z" and answer["to"] == "2026-03-02T09:00:00Z"
    assert answer["bucket_s"] == 30


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-02T08:00:00Z", "to": "2026-04-03T08:00:00Z"},
        {"from": "2026-03-02T08:00:00Z", "to": "2026-03-02T08:00:00Z"},
        {"from": "2026-03-02T08:00:00", "to": "2026-03-02T09:00:00Z"},
        {"points": "2001"},
        {"points": "0"},
        {"channels": ",,"},
    ],
)
def test_unbounded_or_malformed_questions_are_422(
    client: TestClient, params: dict[str, str]
) -> None:
    assert client.get(URL, params=params, headers=HEADERS).status_code == 422


@pytest.mark.parametrize(
    "telemetry",
    [
        TelemetrySettings(kind="sqlite", sqlite_path=Path("/nonexistent/telemetry.db")),
        TelemetrySettings(kind="influx1", url="http://127.0.0.1:9", timeout_s=2),
        TelemetrySettings(kind="none"),
    ],
)
def test_a_store_that_does_not_answer_is_a_503_that_says_so(
    make_tracker: Callable[..., Tracker], telemetry: TelemetrySettings
) -> None:
    tracker = make_tracker(KEY, telemetry=telemetry)
    with TestClient(create_app(tracker)) as client:
        response = client.get(URL, headers=HEADERS)
    assert response.status_code == 503
    assert response.json()["detail"].startswith("telemetry store unavailable: ")

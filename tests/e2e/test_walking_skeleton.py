"""Simulator -> Mosquitto -> gateways (InfluxDB v1 and v2 APIs) and tracker, as processes."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.processes import Process
from tests.services import InfluxDB1, Mosquitto, Victoria, free_port

pytestmark = pytest.mark.e2e

INFLUX_DB = "shopfloor_e2e"


def _mqtt_env(broker: Mosquitto, client_id: str) -> dict[str, str]:
    return {
        "SHOPFLOOR_MQTT__HOST": broker.host,
        "SHOPFLOOR_MQTT__PORT": str(broker.port),
        "SHOPFLOOR_MQTT__CLIENT_ID": client_id,
    }


class Listener:
    """A test MQTT subscriber that records what arrives on a filter."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.messages: list[tuple[str, dict[str, object]]] = []
        self._ready = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{topic[-12:]}")
        self._client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *_: self._ready.set()
        self._client.on_message = lambda _c, _u, m: self.messages.append(
            (m.topic, json.loads(m.payload))
        )
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        assert self._ready.wait(10), "test subscriber did not subscribe"

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def system(
    mosquitto: Mosquitto, influxdb1: InfluxDB1, victoria: Victoria, tmp_path: Path
) -> Iterator[dict[str, object]]:
    influxdb1.create_database(INFLUX_DB)
    api_key = secrets.token_urlsafe(24)
    api_port = free_port()
    run = secrets.token_hex(3)  # fresh client ids: no broker session is shared between runs
    gw1 = Process(
        "gateway-v1",
        ["gateway"],
        {
            **_mqtt_env(mosquitto, f"e2e-gw1-{run}"),
            "SHOPFLOOR_INFLUX__SINK": "influx1",
            "SHOPFLOOR_SPOOL_DIR": str(tmp_path / "spool1"),
            "SHOPFLOOR_INFLUX__URL": influxdb1.url,
            "SHOPFLOOR_INFLUX__DATABASE": INFLUX_DB,
            "SHOPFLOOR_FLUSH_INTERVAL_S": "0.2",
        },
        tmp_path,
    )
    gw2 = Process(
        "gateway-v2",
        ["gateway"],
        {
            **_mqtt_env(mosquitto, f"e2e-gw2-{run}"),
            "SHOPFLOOR_INFLUX__SINK": "influx2",
            "SHOPFLOOR_SPOOL_DIR": str(tmp_path / "spool2"),
            "SHOPFLOOR_INFLUX__URL": victoria.url,
            "SHOPFLOOR_INFLUX__TOKEN": "unused-by-victoria",
            "SHOPFLOOR_INFLUX__ORG": "shopfloor",
            "SHOPFLOOR_INFLUX__BUCKET": "shopfloor",
            "SHOPFLOOR_FLUSH_INTERVAL_S": "0.2",
        },
        tmp_path,
    )
    database_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate = Process("migrate", ["migrate"], {"SHOPFLOOR_DATABASE_URL": database_url}, tmp_path)
    assert migrate.proc.wait(60) == 0, migrate.log()
    assert "to revision" in migrate.log(), migrate.log()
    tracker = Process(
        "tracker",
        ["tracker"],
        {
            **_mqtt_env(mosquitto, f"e2e-tracker-{run}"),
            "SHOPFLOOR_DATABASE_URL": database_url,
            "SHOPFLOOR_API_KEY": api_key,
            "SHOPFLOOR_API_PORT": str(api_port),
            "SHOPFLOOR_CHECK_INTERVAL_S": "1",
            # the on-time order is due in an hour: at the default slack (1 h) it would be at risk
            "SHOPFLOOR_AT_RISK_SLACK_S": "60",
        },
        tmp_path,
    )
    procs = [gw1, gw2, tracker]
    try:
        for p in procs:
            p.wait_for_log("subscribed to")
        tracker.wait_for_log("Uvicorn running")
        yield {
            "gw1": gw1,
            "gw2": gw2,
            "tracker": tracker,
            "api_key": api_key,
            "api": f"http://127.0.0.1:{api_port}",
            "tmp": tmp_path,
        }
    finally:
        codes = {p.name: p.stop() for p in procs}
        assert codes == {p.name: 0 for p in procs}, f"unclean exits: {codes}"


def _create_order(
    api: str, key: str, order_id: str, qty: int, due: datetime, cycle_s: float
) -> str:
    body = {
        "order_id": order_id,
        "customer": "ACME",
        "product": "bracket",
        "quantity": qty,
        "due_at": due.isoformat(),
        "operations": [
            {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 0, "cycle_s": cycle_s},
            {"seq": 20, "name": "weld", "machine": "weld-1", "setup_s": 0, "cycle_s": cycle_s},
        ],
    }
    response = httpx.post(f"{api}/api/v1/orders", json=body, headers={"X-API-Key": key})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def _progress(api: str, order_id: str, token: str) -> dict[str, object]:
    response = httpx.get(
        f"{api}/api/v1/orders/{order_id}/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_simulated_machines_drive_orders_and_telemetry_reaches_both_influx_apis(
    system: dict[str, object],
    mosquitto: Mosquitto,
    influxdb1: InfluxDB1,
    victoria: Victoria,
) -> None:
    api, key = str(system["api"]), str(system["api_key"])
    alerts = Listener(mosquitto, "shopfloor/+/alerts/order/+/+")
    dead = Listener(mosquitto, "shopfloor/_deadletter/+")
    now = datetime.now(UTC)
    on_time = _create_order(api, key, "SO-E2E-1", 4, now + timedelta(hours=1), 0.3)
    # 2 operations x 5 parts x 1 s cannot finish within 4 s
    late = _create_order(api, key, "SO-E2E-2", 5, now + timedelta(seconds=4), 1.0)

    # a malformed reading on the way must be rejected without stopping anything
    bad = mqtt.Client(CallbackAPIVersion.VERSION2)
    bad.connect(mosquitto.host, mosquitto.port)
    bad.loop_start()
    bad.publish(
        "shopfloor/plant1/line1/saw-1/telemetry", b'{"values": {"temp": "hot"}}', qos=1
    ).wait_for_publish(5)
    bad.disconnect()
    bad.loop_stop()

    sim = Process(
        "sim",
        [
            "sim",
            "--broker",
            mosquitto.url,
            "--seed",
            "7",
            "--telemetry-interval",
            "0.2",
            "--job",
            "SO-E2E-1:10:saw-1:4:0.3",
            "--job",
            "SO-E2E-1:20:weld-1:4:0.3",
            "--job",
            "SO-E2E-2:10:saw-1:5:1.0",
            "--job",
            "SO-E2E-2:20:weld-1:5:1.0",
            "--exit-when-done",
        ],
        {},
        Path(str(system["tmp"])),
    )
    assert sim.proc.wait(120) == 0, sim.log()
    sim.stop()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        first, second = _progress(api, "SO-E2E-1", on_time), _progress(api, "SO-E2E-2", late)
        if first["status"] == second["status"] == "completed":
            break
        time.sleep(0.3)
    assert first["status"] == "completed", first
    assert second["status"] == "completed", second
    assert first["percent_complete"] == 100.0 and first["on_time"] is True
    assert second["on_time"] is False
    for op in [*first["operations"], *second["operations"]]:  # type: ignore[misc]
        assert op["state"] == "completed" and op["good_qty"] == op["quantity"]

    # several periodic checks later there is still exactly one alert, for the late order: its
    # topic carries one message per transition, raised (late from the start) and cleared
    # (on completion), both naming the same alert
    time.sleep(3)
    alerts.close()
    assert {topic for topic, _ in alerts.messages} == {
        "shopfloor/plant1/alerts/order/SO-E2E-2/late"
    }
    bodies = [body for _, body in alerts.messages]
    # delivery is at least once: receivers de-duplicate on (alert_id, version), so do we
    distinct = sorted({(b["version"], b["event"], b["severity"]) for b in bodies})
    assert distinct == [
        (1, "raised", "critical"),
        (2, "cleared", "critical"),
    ]
    assert len({b["alert_id"] for b in bodies}) == 1 and bodies[0]["order_id"] == "SO-E2E-2"
    listed = httpx.get(f"{api}/api/v1/alerts", headers={"X-API-Key": key}).json()
    assert [(a["order_id"], a["state"]) for a in listed] == [("SO-E2E-2", "cleared")]

    # both gateways rejected the bad reading, said why, and kept running
    dead.close()
    reasons = [body["reason"] for topic, body in dead.messages if topic.endswith("/gateway")]
    assert reasons == ["type", "type"]  # text in a float field
    for name in ("gw1", "gw2"):
        gateway = system[name]
        assert isinstance(gateway, Process) and gateway.alive()

    # telemetry and events are stored in InfluxDB 1.x (v1 API) and through the v2 API
    time.sleep(1)  # last flush interval
    cycles_v1 = influxdb1.query(
        INFLUX_DB, "SELECT count(counter) FROM events WHERE \"type\"='cycle' GROUP BY machine"
    )
    per_machine = {
        s["tags"]["machine"]: s["values"][0][1] for s in cycles_v1["results"][0]["series"]
    }
    assert per_machine == {"saw-1": 9, "weld-1": 9}
    temps_v1 = influxdb1.query(INFLUX_DB, "SELECT count(spindle_temp_c) FROM telemetry")
    n_temps_v1 = temps_v1["results"][0]["series"][0]["values"][0][1]
    assert n_temps_v1 > 20

    # the VictoriaMetrics server is the session's: other tests' plants write there too; the
    # site tag (from the topic) picks this one's series
    cycles_v2 = victoria.export('events_counter{type="cycle",site="plant1"}')
    assert {s["metric"]["machine"]: len(s["values"]) for s in cycles_v2} == per_machine
    temps_v2 = victoria.export('telemetry_spindle_temp_c{site="plant1"}')
    assert sum(len(s["values"]) for s in temps_v2) == n_temps_v1

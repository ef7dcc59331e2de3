"""Scenario files run against real services: `shopfloor demo --scenario ... --check` with the
broker, telemetry store and database switched to Mosquitto, InfluxDB 1.x and SQLite/PostgreSQL.

The network-faults scenario duplicates, reorders, garbles and delays machine messages; the
orders must still complete exactly (no part counted twice or lost), nobody may be alerted, the
garbage must reach the dead-letter topic with its reason, and the telemetry must be stored.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.processes import Process
from tests.services import InfluxDB1, Mosquitto, Victoria, free_port

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).parent.parent / "data" / "scenarios"


def _scenario(name: str, tmp_path: Path) -> tuple[Path, str]:
    """A copy of a test scenario on a site of its own (the broker and stores are shared by the
    session: retained dispatch lists and series of other runs must not mix in)."""
    site = f"{name.replace('_', '')}{uuid.uuid4().hex[:6]}"
    path = tmp_path / f"{name}.yaml"
    text = (SCENARIOS / f"{name}.yaml").read_text()
    path.write_text(re.sub(r"^(name: .*)$", rf"\1\nsite: {site}", text, count=1, flags=re.M))
    return path, site


class DeadLetters:
    """Collects what lands on the dead-letter topics while a scenario runs."""

    def __init__(self, broker: Mosquitto) -> None:
        self.messages: list[dict[str, object]] = []
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
        subscribed = threading.Event()
        self._client.on_connect = lambda c, *_a: c.subscribe("shopfloor/_deadletter/#", qos=1)
        self._client.on_subscribe = lambda *_a: subscribed.set()
        self._client.on_message = lambda _c, _u, m: self.messages.append(json.loads(m.payload))
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        assert subscribed.wait(10)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def test_network_faults_lose_nothing_count_nothing_twice_and_dead_letter_the_garbage(
    tmp_path: Path, mosquitto: Mosquitto, influxdb1: InfluxDB1, empty_database_url: str
) -> None:
    database = f"scenario_{uuid.uuid4().hex[:8]}"
    influxdb1.create_database(database)
    dead = DeadLetters(mosquitto)
    scenario, _site = _scenario("network_faults", tmp_path)
    demo = Process(
        "scenario",
        [
            "demo",
            "--scenario",
            str(scenario),
            "--check",
            "--broker",
            f"mqtt://{mosquitto.host}:{mosquitto.port}",
            "--influx-url",
            influxdb1.url,
            "--influx-v1",
            "--database-url",
            empty_database_url,
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
        ],
        {"SHOPFLOOR_INFLUX__DATABASE": database},
        tmp_path,
    )
    try:
        assert demo.proc.wait(150) == 0, demo.log()[-5000:]
    finally:
        demo.stop()
        dead.close()
    out = demo.log()
    assert "ok      NF-1 completed (status completed)" in out
    assert "ok      NF-2 raised no alert (0 raised)" in out
    assert "already applied; ignored" in out  # the duplicates came and were ignored
    # nine malformed messages: the gateway dead-letters all, the tracker the events among them
    reasons = [m.get("reason") for m in dead.messages]
    assert len(dead.messages) >= 9, dead.messages
    assert {"invalid_json", "schema", "oversized", "not_finite"} <= set(reasons)
    series = influxdb1.query(database, 'SELECT count("spindle_temp_c") FROM "telemetry"')
    (count,) = [row[1] for row in series["results"][0]["series"][0]["values"]]
    assert count > 20


def test_a_machine_switched_off_is_flagged_and_lost_messages_lose_no_parts(
    tmp_path: Path, victoria: Victoria
) -> None:
    # embedded broker and SQLite; telemetry through the InfluxDB v2 write API
    scenario, site = _scenario("outage", tmp_path)
    demo = Process(
        "outage",
        [
            "demo",
            "--scenario",
            str(scenario),
            "--check",
            "--influx-url",
            victoria.url,
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
        ],
        {"SHOPFLOOR_INFLUX__TOKEN": "unused-by-victoria"},
        tmp_path,
    )
    try:
        assert demo.proc.wait(150) == 0, demo.log()[-5000:]
    finally:
        demo.stop()
    out = demo.log()
    assert (
        "alert 1 raised: order OU-1 is at risk: machine saw-9 of operation 10 (cut) is OFFLINE"
        in out
    )
    assert "ok      OU-1 completed (status completed)" in out
    assert "ok      OU-2 completed (status completed)" in out
    # the silence really lost messages, and the counters made up for them
    dropped = re.search(r"network faults on weld-9: (\d+) messages dropped", out)
    assert dropped and int(dropped.group(1)) > 0, out[-3000:]
    series = victoria.export(f'telemetry_ram_force_kn{{site="{site}",machine="saw-9"}}')
    assert series and len(series[0]["values"]) > 20


def test_a_scenario_rehearsed_on_a_running_tracker_places_its_orders_and_judges_them(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    # the plant's own tracker, its margins set for a scenario run 120 times faster
    scenario, site = _scenario("outage", tmp_path)
    key, port = secrets.token_urlsafe(24), free_port()
    database_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate = Process("migrate", ["migrate"], {"SHOPFLOOR_DATABASE_URL": database_url}, tmp_path)
    assert migrate.proc.wait(60) == 0, migrate.log()
    broker = {"SHOPFLOOR_MQTT__HOST": mosquitto.host, "SHOPFLOOR_MQTT__PORT": str(mosquitto.port)}
    tracker = Process(
        "tracker",
        ["tracker"],
        {
            **broker,
            "SHOPFLOOR_MQTT__CLIENT_ID": f"rehearse-{secrets.token_hex(3)}",
            "SHOPFLOOR_DATABASE_URL": database_url,
            "SHOPFLOOR_API_KEY": key,
            "SHOPFLOOR_API_PORT": str(port),
            "SHOPFLOOR_SITE": site,
            "SHOPFLOOR_CHECK_INTERVAL_S": "2",
            "SHOPFLOOR_AT_RISK_SLACK_S": "15",
            "SHOPFLOOR_DOWN_ALLOWANCE_S": "15",
            "SHOPFLOOR_RECOVERY_MARGIN_S": "5",
            "SHOPFLOOR_OFFLINE_AFTER_S": "8",
        },
        tmp_path,
    )
    try:
        tracker.wait_for_log("Uvicorn running")
        sim = Process(
            "sim",
            [
                "sim",
                "--scenario",
                str(scenario),
                "--tracker",
                f"http://127.0.0.1:{port}",
                "--check",
                "--broker",
                f"mqtt://{mosquitto.host}:{mosquitto.port}",
            ],
            {"SHOPFLOOR_API_KEY": key},
            tmp_path,
        )
        try:
            assert sim.proc.wait(150) == 0, sim.log()[-5000:]
        finally:
            sim.stop()
    finally:
        tracker.stop()
    out = sim.log()
    assert "placing 2 orders in the tracker" in out
    assert "ok      OU-1 raised a late-order alert" in out
    assert "ok      OU-2 completed (status completed)" in out
    assert "scenario outage: the expected outcome holds" in out


def test_the_sim_refuses_a_bad_start_with_a_clear_error(tmp_path: Path) -> None:
    no_key = Process(
        "no-key", ["sim", "--scenario", "demo", "--tracker", "http://127.0.0.1:9"], {}, tmp_path
    )
    no_scenario = Process("no-scenario", ["sim", "--check"], {}, tmp_path)

    no_broker = Process(
        "no-broker", ["sim", "--broker", f"mqtt://127.0.0.1:{free_port()}"], {}, tmp_path
    )

    assert no_key.proc.wait(30) == 2 and no_scenario.proc.wait(30) == 2
    assert no_broker.proc.wait(15) == 1  # at once, not after paho's retries
    assert "--tracker needs a supervisor key in SHOPFLOOR_API_KEY" in no_key.log()
    assert "--tracker and --check go with --scenario" in no_scenario.log()
    assert "shopfloor sim: no MQTT broker at 127.0.0.1:" in no_broker.log()
    for process in (no_key, no_scenario, no_broker):
        process.stop()

"""Real bridges' machines drive orders: the docs' plant files, verbatim, with the gateway and
the tracker as separate processes on a real Mosquitto (docs/connect.md)."""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.processes import Process
from tests.services import Mosquitto, free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "connect"


class System:
    """A gateway and a tracker started as the docs say, on one plant file."""

    def __init__(self, broker: Mosquitto, plant: Path, tmp: Path, extra: dict[str, str]) -> None:
        run = secrets.token_hex(3)
        self.key = secrets.token_urlsafe(24)
        port = free_port()
        self.api = f"http://127.0.0.1:{port}"
        self.db = tmp / "tracker.db"
        common = {
            "SHOPFLOOR_MQTT__HOST": broker.host,
            "SHOPFLOOR_MQTT__PORT": str(broker.port),
            "SHOPFLOOR_PLANT_FILE": str(plant),
            **extra,
        }
        database = {"SHOPFLOOR_DATABASE_URL": f"sqlite:///{self.db}"}
        migrate = Process("migrate", ["migrate"], database, tmp)
        assert migrate.proc.wait(60) == 0, migrate.log()
        self.gateway = Process(
            "gateway",
            ["gateway"],
            {
                **common,
                "SHOPFLOOR_MQTT__CLIENT_ID": f"gw-{run}",
                "SHOPFLOOR_INFLUX__SINK": "sqlite",
                "SHOPFLOOR_INFLUX__SQLITE_PATH": str(tmp / "telemetry.db"),
                "SHOPFLOOR_SPOOL_DIR": str(tmp / "spool"),
                "SHOPFLOOR_FLUSH_INTERVAL_S": "0.2",
            },
            tmp,
        )
        self.tracker = Process(
            "tracker",
            ["tracker"],
            {
                **common,
                **database,
                "SHOPFLOOR_MQTT__CLIENT_ID": f"tracker-{run}",
                "SHOPFLOOR_API_KEY": self.key,
                "SHOPFLOOR_API_PORT": str(port),
                "SHOPFLOOR_REPLAN_DEBOUNCE_S": "0.2",
            },
            tmp,
        )
        for process in (self.gateway, self.tracker):
            process.wait_for_log("subscribed to")
        self.tracker.wait_for_log("Uvicorn running")

    def call(self, method: str, path: str, body: object = None) -> httpx.Response:
        headers = {"X-API-Key": self.key}
        return httpx.request(method, self.api + path, json=body, headers=headers, timeout=10)

    def order(self, order_id: str, machine: str, quantity: int) -> None:
        body = {
            "order_id": order_id,
            "customer": "ACME",
            "product": "six-pack",
            "quantity": quantity,
            "due_at": "2099-01-01T00:00:00Z",
            "operations": [
                {"seq": 10, "name": "make", "machine": machine, "setup_s": 0, "cycle_s": 1}
            ],
        }
        response = self.call("POST", "/api/v1/orders", body)
        assert response.status_code == 201, response.text

    def operation(self, order_id: str) -> dict[str, object]:
        response = self.call("GET", f"/api/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        order = response.json()
        op: dict[str, object] = order["operations"][0]
        return {**op, "order_status": order["status"]}

    def scrap(self, order_id: str) -> int:
        with sqlite3.connect(self.db) as db:
            row = db.execute(
                "SELECT scrap_qty FROM operations WHERE order_id = ?", (order_id,)
            ).fetchone()
        return int(row[0])

    def stop(self) -> None:
        codes = [p.stop() for p in (self.gateway, self.tracker)]
        assert codes == [0, 0], f"unclean exits: {codes}"


class Bridge:
    """Publishes as a PLC bridge does; retained values are cleared at the end."""

    def __init__(self, broker: Mosquitto) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.retained: set[str] = set()

    def value(self, topic: str, value: object) -> None:
        """One plain-text value, retained, QoS 0, as PackML bridges publish."""
        self.retained.add(topic)
        self.client.publish(topic, str(value), qos=0, retain=True).wait_for_publish(5)
        time.sleep(0.02)  # a PLC scan apart: each value gets its own arrival time

    def json(self, topic: str, body: object) -> None:
        self.client.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)

    def close(self) -> None:
        for topic in self.retained:
            self.client.publish(topic, b"", qos=0, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def start(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., System]]:
    systems: list[System] = []

    def make(plant: Path, **extra: str) -> System:
        system = System(mosquitto, plant, tmp_path, extra)
        systems.append(system)
        return system

    yield make
    for system in systems:
        system.stop()


@pytest.fixture
def bridge(mosquitto: Mosquitto) -> Iterator[Bridge]:
    b = Bridge(mosquitto)
    yield b
    b.close()


def _wait_dispatched(mosquitto: Mosquitto, machine: str, order_id: str) -> None:
    """The tracker published the machine's dispatch list with the order on it (retained)."""
    seen: list[bytes] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, m: seen.append(bytes(m.payload))
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    client.subscribe(f"shopfloor/plant1/dispatch/{machine}", qos=1)
    try:
        wait_for(lambda: any(order_id.encode() in p for p in seen), "the dispatch list", 20)
    finally:
        client.disconnect()
        client.loop_stop()


def _run_packml_line(bridge: Bridge, prefix: str) -> tuple[int, int]:
    """A PackML line: start, 1.6667 parts a scan, Reset, a bridge restart; (good, scrap) made."""
    state, good_tag = f"{prefix}/Status/StateCurrentStr", f"{prefix}/Admin/ProdProcessedCount/0/"
    scrap_tag = f"{prefix}/Admin/ProdDefectiveCount/0/"
    for name in ("Clearing", "Stopped"):
        bridge.value(state, name)
    for tag in (good_tag, scrap_tag):  # published when the bridge connects
        bridge.value(tag + "Count", 0)
        bridge.value(tag + "AccCount", 0)
    made_good = made_scrap = 0
    for session in range(2):  # a bridge restart between the two zeroes AccCount
        good = scrap = 0.0
        for name in ("Resetting", "Idle", "Starting", "Execute"):
            bridge.value(state, name)
        for tick in range(6):
            if tick == 3:  # a Reset zeroes Count, never AccCount
                bridge.value(state, "Resetting")
                bridge.value(good_tag + "Count", 0)
                bridge.value(state, "Execute")
            good += 100 / 60
            bridge.value(good_tag + "Count", repr(good))
            bridge.value(good_tag + "AccCount", repr(good))
        scrap += 100 / 60
        bridge.value(scrap_tag + "AccCount", repr(scrap))
        made_good += math.floor(good)
        made_scrap += math.floor(scrap)
        bridge.value(state, "Stopped")
        if session == 0:  # the bridge restarts: every counter starts again at 0
            bridge.value(good_tag + "AccCount", 0)
            bridge.value(scrap_tag + "AccCount", 0)
    return made_good, made_scrap


def test_a_packml_bridge_completes_its_order_bound_from_the_dispatch_list(
    start: Callable[..., System], bridge: Bridge, mosquitto: Mosquitto
) -> None:
    system = start(EXAMPLES / "packml.yaml")
    system.order("SO-PACKML-1", "filler-1", 20)
    _wait_dispatched(mosquitto, "filler-1", "SO-PACKML-1")
    good, scrap = _run_packml_line(bridge, "Greenville/Packaging/Line1")
    assert (good, scrap) == (20, 2)
    wait_for(
        lambda: system.operation("SO-PACKML-1")["good_qty"] == good, "the good parts counted", 20
    )
    op = system.operation("SO-PACKML-1")
    assert op["state"] == "completed" and op["order_status"] == "completed", op
    assert system.scrap("SO-PACKML-1") == scrap
    machine = system.call("GET", "/api/v1/machines/filler-1").json()
    assert machine["state"] == "IDLE"  # Stopped, and never OFFLINE for being quiet
    jobs = system.call("GET", "/api/v1/machines/filler-1/jobs").json()
    assert any(j["source"] == "dispatch" and j["order_id"] == "SO-PACKML-1" for j in jobs)


def test_an_operator_binds_the_job_of_a_packml_machine(
    start: Callable[..., System], bridge: Bridge, tmp_path: Path
) -> None:
    text = (EXAMPLES / "packml.yaml").read_text()
    assert "bind: dispatch" in text
    plant = tmp_path / "packml-operator.yaml"
    plant.write_text(text.replace("bind: dispatch", "bind: operator"))  # as the docs say
    system = start(plant)
    system.order("SO-PACKML-2", "filler-1", 20)
    started = system.call(
        "POST",
        "/api/v1/machines/filler-1/job",
        {"action": "start", "order_id": "SO-PACKML-2", "operation": 10},
    )
    assert started.status_code == 200, started.text
    good, scrap = _run_packml_line(bridge, "Greenville/Packaging/Line1")
    wait_for(
        lambda: system.operation("SO-PACKML-2")["good_qty"] == good, "the good parts counted", 20
    )
    assert system.operation("SO-PACKML-2")["order_status"] == "completed"
    assert system.scrap("SO-PACKML-2") == scrap


def test_a_kepware_machine_completes_its_order(
    start: Callable[..., System], bridge: Bridge, mosquitto: Mosquitto
) -> None:
    system = start(EXAMPLES / "kepware.yaml")
    system.order("SO-KEP-1", "press-4", 10)
    _wait_dispatched(mosquitto, "press-4", "SO-KEP-1")
    t0 = int(time.time() * 1000) - 60_000

    def publish(ms: int, **tags: object) -> None:
        values = [{"id": f"Channel1.{k}", "v": v, "q": True, "t": ms} for k, v in tags.items()]
        values.append({"id": "Channel1.Press5.GoodParts", "v": 999, "q": True, "t": ms})
        bridge.json("iotgateway", {"timestamp": ms, "values": values})

    publish(t0, **{"Press4.Running": False, "Press4.GoodParts": 500, "Press4.RejectParts": 7})
    publish(t0 + 1000, **{"Press4.Running": True})
    for i in range(1, 11):
        tags: dict[str, object] = {"Press4.GoodParts": 500 + i}
        if i == 5:
            tags["Press4.RejectParts"] = 8
        publish(t0 + 1000 + i * 1000, **tags)
    publish(t0 + 1000, **{"Press4.GoodParts": 503})  # a late duplicate: older, counts nothing
    publish(
        t0 + 13_000,
        **{"Press4.AlarmCode": "E-17", "Press4.AlarmText": "die jammed", "Press4.Running": False},
    )
    wait_for(lambda: system.operation("SO-KEP-1")["good_qty"] == 10, "ten good parts", 20)
    assert system.operation("SO-KEP-1")["order_status"] == "completed"
    assert system.scrap("SO-KEP-1") == 1
    alarms = system.call("GET", "/api/v1/machines/press-4/alarms").json()
    assert [(a["code"], a["message"]) for a in alarms] == [("E-17", "die jammed")]
    unknown = system.call("GET", "/api/v1/machines/press-5")
    assert unknown.status_code == 404  # another machine's tags made no machine


def test_a_packml_sparkplug_edge_node_completes_its_order(
    start: Callable[..., System], mosquitto: Mosquitto, tmp_path: Path
) -> None:
    system = start(EXAMPLES / "sparkplug.yaml", SHOPFLOOR_SPARKPLUG__ENABLED="true")
    system.order("SO-SPB-1", "filler-2", 8)
    _wait_dispatched(mosquitto, "filler-2", "SO-SPB-1")
    dead = DeadLetters(mosquitto)
    # the simulator's PackML edge node: group Greenville, node Packaging, device Line2; its
    # numbers flip between Int32 and Float and its bdSeq is 0, as such edge nodes do
    sim = Process(
        "sim",
        [
            "sim",
            "--broker",
            f"mqtt://{mosquitto.host}:{mosquitto.port}",
            "--bridge",
            "packml-sparkplug",
            "--site",
            "Greenville",
            "--line",
            "Packaging",
            "--machine",
            "Line2",
            "--job",
            "SO-SPB-1:10:Line2:8:0.5",
            "--speed",
            "10",
            "--exit-when-done",
            "--duration",
            "60",
        ],
        {},
        tmp_path,
    )
    try:
        wait_for(lambda: system.operation("SO-SPB-1")["good_qty"] == 8, "eight good parts", 60)
        assert system.operation("SO-SPB-1")["order_status"] == "completed"
        reasons = {json.loads(p)["reason"] for p in dead.payloads}
        assert not reasons - {"sparkplug_unknown_metric"}, reasons
    finally:
        sim.stop()
        dead.close()


class DeadLetters:
    """The gateway's dead letters."""

    def __init__(self, broker: Mosquitto) -> None:
        self.payloads: list[bytes] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.payloads.append(bytes(m.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe("shopfloor/_deadletter/gateway", qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

"""The gateway on a real Mosquitto writing to a real InfluxDB 1.x and a v2-write-API server."""

from __future__ import annotations

import json
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.service import Gateway
from gateway.settings import GatewaySettings, InfluxSettings
from shopfloor.mqtt import MqttSettings
from tests.services import InfluxDB1, Mosquitto, Victoria, free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Callable[[str, bytes], None]]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()

    def publish(topic: str, payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        assert info.is_published()

    yield publish
    client.disconnect()
    client.loop_stop()


def _gateway(
    mosquitto: Mosquitto, influx: InfluxSettings, protocol: str = "5", **extra: Any
) -> Gateway:
    spool = Path(tempfile.mkdtemp(prefix="spool-"))
    settings = GatewaySettings(
        **extra,
        spool_dir=spool,
        mqtt=MqttSettings(
            host=mosquitto.host,
            port=mosquitto.port,
            client_id=f"gw-test-{secrets.token_hex(4)}",
            protocol=protocol,
        ),
        influx=influx,
        flush_interval_s=0.1,
    )
    gateway = Gateway(settings)
    gateway.start()
    assert gateway.subscribed.wait(10)
    return gateway


def _series(influx: InfluxDB1, db: str, q: str) -> list[dict[str, object]]:
    result = influx.query(db, q)["results"][0]
    return list(result.get("series", []))


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_readings_are_written_with_topic_tags_float_fields_and_device_time(
    mosquitto: Mosquitto,
    influxdb1: InfluxDB1,
    publisher: Callable[[str, bytes], None],
    protocol: str,
) -> None:
    db = f"gw_{secrets.token_hex(4)}"
    influxdb1.create_database(db)
    gateway = _gateway(
        mosquitto, InfluxSettings(sink="influx1", url=influxdb1.url, database=db), protocol
    )
    try:
        publisher(
            "shopfloor/p1/l2/cnc-7/telemetry",
            json.dumps(
                [
                    {"ts": "2026-03-02T08:00:00.123456Z", "values": {"rpm": 1200, "temp": 41.5}},
                    {"ts": 1772438401000, "values": {"rpm": 1210}},
                ]
            ).encode(),
        )
        wait_for(lambda: gateway.stats.points_written >= 2, timeout_s=20, what="2 points written")
    finally:
        gateway.stop()
    (series,) = _series(influxdb1, db, "SELECT rpm, temp, site, line, machine FROM telemetry")
    assert series["values"] == [
        ["2026-03-02T08:00:00.123456Z", 1200.0, 41.5, "p1", "l2", "cnc-7"],
        ["2026-03-02T08:00:01Z", 1210.0, None, "p1", "l2", "cnc-7"],
    ]
    fields = influxdb1.query(db, "SHOW FIELD KEYS FROM telemetry")["results"][0]["series"][0]
    assert sorted(fields["values"]) == [["rpm", "float"], ["temp", "float"]]


def test_bad_payloads_are_dead_lettered_with_reasons_and_ingest_continues(
    mosquitto: Mosquitto, influxdb1: InfluxDB1, publisher: Callable[[str, bytes], None]
) -> None:
    db = f"gw_{secrets.token_hex(4)}"
    influxdb1.create_database(db)
    dead: list[dict[str, str]] = []
    subscribed = threading.Event()
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2)
    watcher.on_connect = lambda c, *_: c.subscribe("shopfloor/_deadletter/gateway", qos=1)
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.on_message = lambda _c, _u, m: dead.append(json.loads(m.payload))
    watcher.connect(mosquitto.host, mosquitto.port)
    watcher.loop_start()
    assert subscribed.wait(10)
    gateway = _gateway(mosquitto, InfluxSettings(sink="influx1", url=influxdb1.url, database=db))
    try:
        for payload in [
            b"{not json",
            b'{"values": {"t": NaN}}',
            b'{"values": {"t": "hot"}}',
            b'{"ts": "yesterday", "values": {"t": 1}}',
            b"\xff\xfe",
        ]:
            publisher("shopfloor/p1/l1/m1/telemetry", payload)
        publisher("shopfloor/p1/l1/m1/telemetry", b'{"values": {"t": 2}}')
        wait_for(
            lambda: len(dead) == 5 and gateway.stats.points_written == 1,
            timeout_s=20,
            what="5 dead letters and 1 good point",
        )
    finally:
        gateway.stop()
        watcher.disconnect()
        watcher.loop_stop()
    assert sorted(d["reason"] for d in dead) == sorted(
        ["invalid_json", "not_finite", "type", "bad_timestamp", "invalid_json"]
    )
    assert all(d["topic"] and d["detail"] for d in dead)
    assert dict(gateway.stats.rejected) == {
        "invalid_json": 2,
        "not_finite": 1,
        "type": 1,
        "bad_timestamp": 1,
    }
    assert [d.get("payload_base64") for d in dead if "payload" not in d] == ["//4="]


def test_points_the_store_rejects_are_isolated_and_the_rest_of_the_batch_is_kept(
    mosquitto: Mosquitto, influxdb1: InfluxDB1, publisher: Callable[[str, bytes], None]
) -> None:
    db = f"gw_{secrets.token_hex(4)}"
    influxdb1.create_database(db)
    # another tool already wrote `mode` as a string: our float `mode` is a field-type conflict
    httpx.post(
        f"{influxdb1.url}/write",
        params={"db": db},
        content=b'telemetry,line=l1,machine=m1,site=p1 mode="auto" 1',
    ).raise_for_status()
    gateway = _gateway(mosquitto, InfluxSettings(sink="influx1", url=influxdb1.url, database=db))
    try:
        publisher(
            "shopfloor/p1/l1/m1/telemetry",
            json.dumps(
                [{"ts": 1000 * i, "values": {"speed": float(i)}} for i in range(1, 6)]
                + [{"ts": 9000, "values": {"mode": 2}}]
            ).encode(),
        )
        wait_for(
            lambda: gateway.stats.rejected["store_rejected"] == 1,
            timeout_s=20,
            what="one rejected point",
        )
    finally:
        gateway.stop()
    (series,) = _series(influxdb1, db, "SELECT count(speed) FROM telemetry")
    assert series["values"][0][1] == 5


def test_points_wait_while_the_database_is_missing_and_arrive_when_it_exists(
    mosquitto: Mosquitto, influxdb1: InfluxDB1, publisher: Callable[[str, bytes], None]
) -> None:
    db = f"gw_{secrets.token_hex(4)}"  # not created yet: InfluxDB answers 404
    gateway = _gateway(mosquitto, InfluxSettings(sink="influx1", url=influxdb1.url, database=db))
    try:
        for i in range(20):
            publisher(
                "shopfloor/p1/l1/m1/telemetry",
                json.dumps({"ts": 1000 * (i + 1), "values": {"v": i}}).encode(),
            )
        wait_for(lambda: gateway.stats.write_retries >= 2, timeout_s=20, what="retries")
        assert gateway.stats.points_written == 0
        influxdb1.create_database(db)
        wait_for(lambda: gateway.stats.points_written == 20, timeout_s=30, what="20 points")
    finally:
        gateway.stop()
    (series,) = _series(influxdb1, db, "SELECT count(v) FROM telemetry")
    assert series["values"][0][1] == 20


def test_v2_write_api_through_influxdb_client(
    mosquitto: Mosquitto, victoria: Victoria, publisher: Callable[[str, bytes], None]
) -> None:
    machine = f"m-{secrets.token_hex(3)}"
    gateway = _gateway(
        mosquitto, InfluxSettings(sink="influx2", url=victoria.url, token="t", org="o", bucket="b")
    )
    try:
        publisher(
            f"shopfloor/p1/l1/{machine}/telemetry",
            json.dumps({"ts": 1772438400000, "values": {"temp": 41.5}}).encode(),
        )
        publisher(
            f"shopfloor/p1/l1/{machine}/event",
            json.dumps(
                {"ts": 1772438401000, "event_id": "e1", "type": "cycle", "counter": 17}
            ).encode(),
        )
        wait_for(lambda: gateway.stats.points_written == 2, timeout_s=20, what="2 points")
    finally:
        gateway.stop()
    (temp,) = victoria.export(f'telemetry_temp{{machine="{machine}"}}')
    assert temp["values"] == [41.5] and temp["timestamps"] == [1772438400000]
    assert temp["metric"]["site"] == "p1" and temp["metric"]["line"] == "l1"
    (counter,) = victoria.export(f'events_counter{{machine="{machine}"}}')
    assert counter["values"] == [17] and counter["metric"]["type"] == "cycle"


def test_a_full_spool_holds_acknowledgements_back_and_loses_nothing(
    mosquitto: Mosquitto, influxdb1: InfluxDB1, publisher: Callable[[str, bytes], None]
) -> None:
    db = f"gw_{secrets.token_hex(4)}"  # missing at first: every batch goes to the spool
    gateway = _gateway(
        mosquitto,
        InfluxSettings(sink="influx1", url=influxdb1.url, database=db),
        spool_max_bytes=64 * 1024,
        batch_size=200,
    )
    try:
        for i in range(300):  # 3,000 points, ~150 kB of line protocol: twice the spool
            publisher(
                "shopfloor/p1/l1/m1/telemetry",
                json.dumps(
                    [{"ts": 10 * i + k + 1, "values": {"v": float(k)}} for k in range(10)]
                ).encode(),
            )
        wait_for(lambda: gateway.stats.spool_full > 0, timeout_s=20, what="the spool to fill")
        assert gateway.spool.bytes <= 64 * 1024
        assert gateway.stats.points_written == 0
        influxdb1.create_database(db)
        wait_for(lambda: gateway.stats.points_written >= 3000, timeout_s=60, what="3,000 points")
    finally:
        gateway.stop()
    (series,) = _series(influxdb1, db, "SELECT count(v) FROM telemetry")
    assert series["values"][0][1] == 3000
    assert len(gateway.spool) == 0


def test_metrics_are_served_for_prometheus(
    mosquitto: Mosquitto, influxdb1: InfluxDB1, publisher: Callable[[str, bytes], None]
) -> None:
    db = f"gw_{secrets.token_hex(4)}"
    influxdb1.create_database(db)
    port = free_port()
    gateway = _gateway(
        mosquitto,
        InfluxSettings(sink="influx1", url=influxdb1.url, database=db),
        metrics_port=port,
        metrics_host="127.0.0.1",
    )
    try:
        publisher("shopfloor/p1/l1/m1/telemetry", b'{"values": {"v": 1}}')
        publisher("shopfloor/p1/l1/m1/telemetry", b"{oops")
        wait_for(lambda: gateway.stats.points_written == 1, timeout_s=20, what="a point")
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        gateway.stop()
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples["shopfloor_gateway_messages_total"] == 2
    assert samples["shopfloor_gateway_points_written_total"] == 1
    assert samples['shopfloor_gateway_dead_letters_total{reason="invalid_json"}'] == 1
    assert samples["shopfloor_gateway_spool_batches"] == 0
    assert samples["shopfloor_gateway_connected"] == 1
    assert samples["shopfloor_gateway_write_seconds_count"] == 1
    assert samples['shopfloor_gateway_batch_points_bucket{le="1.0"}'] == 1

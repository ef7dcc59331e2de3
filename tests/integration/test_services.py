"""The session's real servers work: Mosquitto, influxd, VictoriaMetrics, PostgreSQL."""

from __future__ import annotations

import queue
import time
import uuid
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from paho.mqtt.enums import CallbackAPIVersion

from tests.services import InfluxDB1, Mosquitto, Victoria
from tests.waiting import wait_for
from tracker.adapters import orm
from tracker.adapters.database import make_engine
from tracker.adapters.migrations import check_migrated

pytestmark = pytest.mark.integration


def _connected_client(broker: Mosquitto, client_id: str) -> mqtt.Client:
    """Return a paho 2.x client connected to `broker` with its network loop running."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect(broker.host, broker.port)
    client.loop_start()
    wait_for(client.is_connected, f"{client_id} to connect", 10)
    return client


def test_mosquitto_delivers_a_qos1_message(mosquitto: Mosquitto) -> None:
    topic = f"test/{uuid.uuid4().hex}"
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[int] = queue.Queue()
    sub = _connected_client(mosquitto, "sub")
    sub.on_message = lambda _c, _u, msg: received.put(msg)
    sub.on_subscribe = lambda _c, _u, mid, _rc, _p: subscribed.put(mid)
    pub = _connected_client(mosquitto, "pub")
    try:
        _, mid = sub.subscribe(topic, qos=1)
        assert subscribed.get(timeout=10) == mid
        pub.publish(topic, b"hello", qos=1).wait_for_publish(10)
        msg = received.get(timeout=10)
        assert (msg.topic, msg.payload, msg.qos) == (topic, b"hello", 1)
    finally:
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()


def test_influxdb1_stores_a_v1_write(influxdb1: InfluxDB1) -> None:
    influxdb1.create_database("shop")
    ns = time.time_ns()
    line = f"spindle,machine=m1 load=42.5 {ns}"
    response = httpx.post(f"{influxdb1.url}/write", params={"db": "shop"}, content=line)
    assert response.status_code == 204, response.text

    result = influxdb1.query("shop", "SELECT load, machine FROM spindle")

    series = result["results"][0]["series"][0]
    assert series["columns"] == ["time", "load", "machine"]
    assert series["values"][0][1:] == [42.5, "m1"]


def test_victoria_accepts_influxdb_client_v2_writes(victoria: Victoria) -> None:
    ms = int(time.time() * 1000)
    with InfluxDBClient(victoria.url, token="x", org="o") as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket="b", record=f"m,host=a v=1.5 {ms * 1_000_000}"
        )
    found: list[dict[str, Any]] = []

    def exported() -> bool:
        found[:] = victoria.export('{__name__="m_v"}')
        return bool(found)

    wait_for(exported, "the point to be exported", 10)

    assert found == [
        {"metric": {"__name__": "m_v", "host": "a"}, "values": [1.5], "timestamps": [ms]}
    ]


def test_pg_url_is_a_usable_postgresql_database(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE orders (id integer PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO orders VALUES (1)"))
            assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one() == 1
            assert engine.dialect.name == "postgresql"
    finally:
        engine.dispose()


@pytest.mark.parametrize("run", [1, 2])
def test_empty_database_url_is_empty_in_every_test(empty_database_url: str, run: int) -> None:
    engine = sa.create_engine(empty_database_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE orders (id integer PRIMARY KEY)"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("run", [1, 2])
def test_database_url_is_at_the_head_and_holds_no_rows_in_every_test(
    database_url: str, run: int
) -> None:
    engine = make_engine(database_url)
    try:
        check_migrated(engine)
        assert set(orm.metadata.tables) <= set(sa.inspect(engine).get_table_names())
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one() == 0
            conn.execute(sa.text("DROP TABLE operator_actions"))  # the next run gets its own
    finally:
        engine.dispose()

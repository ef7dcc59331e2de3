"""The bad-message corpus through a real Mosquitto and influxd: dead-lettered, good ones stored."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.service import Gateway
from gateway.settings import GatewaySettings, InfluxSettings
from shopfloor.contract.topics import dead_letter_topic
from shopfloor.mqtt import MqttSettings
from tests.corpus import (
    EVENT_TOPIC,
    MAX_PAYLOAD_BYTES,
    PACKML_PREFIX,
    READINGS_TOPIC,
    BadMessage,
    decode_settings,
    load_corpus,
)
from tests.services import InfluxDB1, Mosquitto
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def _client(mosquitto: Mosquitto) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    return client


def _good_message(bad: BadMessage, i: int, now_ms: int) -> tuple[str, bytes]:
    """A good message on the same topic family as `bad` (reading i at a unique time)."""
    ts = now_ms - 60_000 + i
    if bad.topic == EVENT_TOPIC:
        body: Any = {"ts": ts, "event_id": f"good-{i}", "type": "cycle", "counter": i}
        return EVENT_TOPIC, json.dumps(body).encode()
    if bad.topic.startswith(PACKML_PREFIX):
        return PACKML_PREFIX + "Status/StateCurrent", json.dumps(
            {"value": "EXECUTE", "ts": ts}
        ).encode()
    return READINGS_TOPIC, json.dumps({"ts": ts, "values": {"seq": i, "count": i}}).encode()


def _dead_payload(letter: dict[str, Any]) -> bytes:
    if "payload_base64" in letter:
        return base64.b64decode(letter["payload_base64"])
    return str(letter["payload"]).encode("utf-8", "surrogatepass")


def _count(influx: InfluxDB1, db: str, q: str) -> int:
    series = influx.query(db, q)["results"][0].get("series", [])
    return int(series[0]["values"][0][1]) if series else 0


def test_corpus_is_dead_lettered_with_its_reasons_while_good_messages_keep_flowing(
    mosquitto: Mosquitto, influxdb1: InfluxDB1, tmp_path: Path
) -> None:
    db = f"corpus_{secrets.token_hex(4)}"
    influxdb1.create_database(db)
    settings = GatewaySettings(
        mqtt=MqttSettings(
            host=mosquitto.host, port=mosquitto.port, client_id=f"gw-corpus-{secrets.token_hex(4)}"
        ),
        influx=InfluxSettings(sink="influx1", url=influxdb1.url, database=db),
        flush_interval_s=0.1,
        max_payload_bytes=MAX_PAYLOAD_BYTES,
        spool_dir=tmp_path / "spool",
        decode=decode_settings(),
    )
    corpus = load_corpus()
    # a topic outside every subscription never reaches the gateway (the unit test covers it)
    filters = settings.subscriptions()
    delivered = [m for m in corpus if any(mqtt.topic_matches_sub(f, m.topic) for f in filters)]
    assert {m.reason for m in delivered} == {m.reason for m in corpus}

    dead: list[dict[str, Any]] = []
    subscribed = threading.Event()
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2)
    watcher.on_connect = lambda c, *_: c.subscribe(dead_letter_topic("gateway"), qos=1)
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.on_message = lambda _c, _u, m: dead.append(json.loads(m.payload))
    watcher.connect(mosquitto.host, mosquitto.port)
    watcher.loop_start()
    assert subscribed.wait(10)
    gateway = Gateway(settings)
    gateway.start()
    publisher = _client(mosquitto)
    goods: list[str] = []
    try:
        assert gateway.connected.wait(10)
        assert gateway.subscribed.wait(10), "the gateway's subscriptions"
        now_ms = int(time.time() * 1000)
        for i, bad in enumerate(delivered):
            good_topic, good_payload = _good_message(bad, i, now_ms)
            goods.append(good_topic)
            for topic, payload in ((good_topic, good_payload), (bad.topic, bad.payload)):
                info = publisher.publish(topic, payload, qos=1)
                info.wait_for_publish(5)
                assert info.is_published()
        readings = goods.count(READINGS_TOPIC)
        wait_for(
            lambda: len(dead) >= len(delivered), timeout_s=30, what=f"{len(delivered)} dead letters"
        )
        wait_for(
            lambda: _count(influxdb1, db, "SELECT count(seq) FROM telemetry") == readings,
            timeout_s=30,
            what=f"{readings} good readings stored",
        )
    finally:
        gateway.stop()
        for client in (publisher, watcher):
            client.disconnect()
            client.loop_stop()

    by_message = {(d["topic"], _dead_payload(d)[:4096]): d for d in dead}
    for bad in delivered:
        letter = by_message.get((bad.topic, bad.payload[:4096]))
        assert letter is not None, f"no dead letter for {bad.note!r}"
        assert letter["reason"] == bad.reason, (bad.note, letter["detail"])
        assert letter["detail"]
    assert len(dead) == len(delivered)  # good messages are never dead-lettered

    events = goods.count(EVENT_TOPIC)
    states = len(goods) - readings - events
    assert _count(influxdb1, db, "SELECT count(counter) FROM events") == events
    assert _count(influxdb1, db, 'SELECT count("Status/StateCurrent") FROM telemetry') == states
    types = influxdb1.query(db, "SHOW FIELD KEYS FROM telemetry")["results"][0]["series"][0]
    assert sorted(types["values"]) == [
        ["Status/StateCurrent", "string"],
        ["count", "integer"],
        ["seq", "float"],
    ]

"""`shopfloor sim --bridges`: each machine its own MQTT client, as a PLC bridge: retained state
for late subscribers, a retained OFFLINE will when the bridge dies, OFFLINE on a clean stop."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.processes import Process
from tests.services import Mosquitto
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


class Listener:
    """Subscribes to every machine event of site `site`; keeps (topic, payload, retained)."""

    def __init__(self, broker: Mosquitto, site: str) -> None:
        self.got: list[tuple[str, dict[str, object], bool]] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
        ready = threading.Event()
        self._client.on_connect = lambda c, *_a: c.subscribe(f"shopfloor/{site}/+/+/event", 1)
        self._client.on_subscribe = lambda *_a: ready.set()
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        assert ready.wait(10)

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            if msg.payload:  # an empty one clears a retained message
                self.got.append((msg.topic, json.loads(msg.payload), bool(msg.retain)))

    def states(self, machine: str) -> list[tuple[str, str, bool]]:
        with self._lock:
            return [
                (str(p["state"]), str(p["event_id"]), retained)
                for topic, p, retained in self.got
                if topic.endswith(f"/{machine}/event") and p.get("type") == "state"
            ]

    def wait_for(
        self, machine: str, state: str, timeout_s: float = 15
    ) -> list[tuple[str, str, bool]]:
        wait_for(
            lambda: any(s == state for s, _id, _r in self.states(machine)),
            lambda: f"{state} from {machine}: {self.states(machine)}",
            timeout_s,
            0.1,
        )
        return self.states(machine)

    def clear_retained(self, site: str) -> None:
        """Remove the test's retained messages: other tests share this broker."""
        for machine in ("m1", "m2"):
            topic = f"shopfloor/{site}/line1/{machine}/event"
            self._client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def _bridges(tmp_path: Path, broker: Mosquitto, site: str, name: str) -> Process:
    return Process(
        name,
        [
            "sim",
            "--bridges",
            "--broker",
            f"mqtt://{broker.host}:{broker.port}",
            "--site",
            site,
            "--speed",
            "5",
            "--job",
            "SO-1:10:m1:500:1.0",
            "--job",
            "SO-2:10:m2:500:1.0",
        ],
        {},
        tmp_path,
    )


def test_a_dead_bridge_leaves_a_retained_offline_will_per_machine(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    site = f"bridges{uuid.uuid4().hex[:6]}"
    live = Listener(mosquitto, site)
    sim = _bridges(tmp_path, mosquitto, site, "bridges")
    try:
        for machine in ("m1", "m2"):
            # the birth: the machine's state as the bridge connects, retained
            state, event_id, _retained = live.wait_for(machine, "IDLE")[0]
            assert "-birth-" in event_id
            live.wait_for(machine, "RUNNING")
        # a subscriber that comes later gets each machine's last state, retained
        late = Listener(mosquitto, site)
        try:
            for machine in ("m1", "m2"):
                first = late.wait_for(machine, "RUNNING")[0]
                assert first[0] == "RUNNING" and first[2] is True
        finally:
            late.close()
        sim.proc.kill()  # no clean disconnect: the broker sends each machine's will
        for machine in ("m1", "m2"):
            state, event_id, _retained = live.wait_for(machine, "OFFLINE")[-1]
            assert (
                state == "OFFLINE" and event_id.startswith(f"{machine}-") and "-will-" in event_id
            )
    finally:
        sim.stop()
        live.close()
    after = Listener(mosquitto, site)
    try:
        for machine in ("m1", "m2"):
            assert after.wait_for(machine, "OFFLINE")[0][:1] == ("OFFLINE",)
    finally:
        after.clear_retained(site)
        after.close()


def test_a_bridge_that_stops_cleanly_says_offline(tmp_path: Path, mosquitto: Mosquitto) -> None:
    site = f"bridges{uuid.uuid4().hex[:6]}"
    live = Listener(mosquitto, site)
    sim = _bridges(tmp_path, mosquitto, site, "bridges-stop")
    try:
        live.wait_for("m1", "RUNNING")
        assert sim.stop() == 0
        state, event_id, _retained = live.wait_for("m1", "OFFLINE")[-1]
        assert event_id.endswith("-stop")
    finally:
        sim.stop()
        live.clear_retained(site)
        live.close()

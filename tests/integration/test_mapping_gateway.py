"""Tags of real bridges through the gateway on a real Mosquitto: events out, points stored."""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.service import Gateway
from shopfloor.contract.payloads import CycleEvent, StateEvent, parse_event
from tests.gateway_helpers import Gateways, MemorySink, Watcher, wait_for
from tests.services import Mosquitto

pytestmark = pytest.mark.integration


class PackmlBridge:
    """Publishes as PackML MQTT bridges do: one plain-text value per topic, retained, QoS 0."""

    def __init__(self, broker: Mosquitto, prefix: str) -> None:
        self.prefix = prefix
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def set(self, tag: str, value: object) -> None:
        self.client.publish(
            f"{self.prefix}/{tag}", str(value), qos=0, retain=True
        ).wait_for_publish(5)

    def clear(self, *tags: str) -> None:
        for tag in tags:
            self.client.publish(f"{self.prefix}/{tag}", b"", qos=0, retain=True).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def site() -> str:
    return f"s{secrets.token_hex(3)}"


@pytest.fixture
def start_gateway(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    gateways = Gateways(mosquitto, tmp_path)

    def start(sink: MemorySink, protocol: str = "5", **settings: object) -> Gateway:
        return gateways.start(sink, f"gw-map-{secrets.token_hex(3)}", protocol, **settings)

    yield start
    gateways.stop_all()


def test_a_packml_bridge_drives_states_and_exact_counts_through_restarts(
    mosquitto: Mosquitto, start_gateway: Callable[..., Gateway], site: str
) -> None:
    prefix = f"{site.upper()}/Packaging/Line1"
    source = {
        "topic": f"{prefix}/{{tag*}}",
        "site": site,
        "line": "packaging",
        "state": {"tag": "Status/StateCurrentStr", "preset": "packml"},
        "good": "Admin/ProdProcessedCount/0/AccCount",
        "scrap": "Admin/ProdDefectiveCount/0/AccCount",
    }
    sink = MemorySink()
    watcher = Watcher(mosquitto, f"shopfloor/{site}/+/+/event", "shopfloor/_deadletter/#")
    bridge = PackmlBridge(mosquitto, prefix)
    try:
        start_gateway(sink, mapping={"machines": [{"id": "filler-1", "source": source}]})
        topic = f"shopfloor/{site}/packaging/filler-1/event"
        for state in ("Stopped", "Resetting", "Idle", "Starting", "Execute"):
            bridge.set("Status/StateCurrentStr", state)
        bridge.set("Admin/ProdProcessedCount/0/AccCount", 0)  # published at connect
        bridge.set("Admin/ProdDefectiveCount/0/AccCount", 0)
        good, wholes = 0.0, []
        for _ in range(12):  # 1.6666 parts a tick, as the open-source simulator counts
            good += 100 / 60
            bridge.set("Admin/ProdProcessedCount/0/AccCount", repr(good))
            wholes.append(math.floor(good))
        bridge.set("Admin/ProdDefectiveCount/0/AccCount", repr(100 / 60))
        bridge.set("Admin/ProdProcessedCount/0/AccCount", 0)  # the bridge restarts
        bridge.set("Admin/ProdDefectiveCount/0/AccCount", 0)
        for value in (1.5, 3.2):
            bridge.set("Admin/ProdProcessedCount/0/AccCount", value)
        bridge.set("Status/StateCurrentStr", "Aborted")
        wait_for(lambda: b'"DOWN"' in b"".join(watcher.on(topic)), "the Aborted state")
        events = [parse_event(p) for p in watcher.on(topic)]
        states = [e.state.value for e in events if isinstance(e, StateEvent)]
        assert states == ["IDLE", "RUNNING", "DOWN"]  # Stopped..Starting are all IDLE
        cycles = [e for e in events if isinstance(e, CycleEvent)]
        baselines = [(c.counter, c.scrap_counter) for c in cycles if c.baseline]
        assert baselines == [(0, None), (0, 0)]  # each counter as first seen: no parts
        # what the tracker will count: the advance of each counter, a restart's new value
        assert [(c.counter, c.scrap_counter) for c in cycles if not c.baseline] == [
            *[(w, 0) for w in wholes],
            (wholes[-1], 1),  # a scrap part
            (0, 1),  # the restart zeroes the good counter...
            (0, 0),  # ...and the scrap counter
            (1, 0),
            (3, 0),
        ]
        assert [c.scrap_counter for c in cycles][-1] == 0
        assert not watcher.on("shopfloor/_deadletter/")
        wait_for(lambda: sink.having('StateCurrentStr="Aborted"'), "the state stored")
        assert sink.having("machine=filler-1") and sink.having("Admin/ProdProcessedCount")
    finally:
        bridge.clear(
            "Status/StateCurrentStr",
            "Admin/ProdProcessedCount/0/AccCount",
            "Admin/ProdDefectiveCount/0/AccCount",
        )
        bridge.close()
        watcher.close()


def test_retained_values_are_stored_once_across_reconnects(
    mosquitto: Mosquitto, start_gateway: Callable[..., Gateway], site: str
) -> None:
    prefix = f"{site}/Area/Line2"
    bridge = PackmlBridge(mosquitto, prefix)
    try:
        bridge.set("Status/CurMachSpeed", 97.5)
        source = {"topic": f"{prefix}/{{tag*}}", "state": "Status/StateCurrentStr"}
        mapping = {"machines": [{"id": "m2", "source": source}]}
        for protocol in ("5", "3.1.1"):
            sink = MemorySink()
            gateway = start_gateway(sink, protocol=protocol, mapping=mapping)
            wait_for(lambda s=sink: s.having("CurMachSpeed=97.5"), "the retained value")
            gateway.subscribed.clear()
            gateway._client.reconnect()  # the broker offers retained values again (3.1.1)
            assert gateway.subscribed.wait(10)
            time.sleep(0.5)  # a value sent again would be stored within this
            assert len(sink.having("CurMachSpeed=97.5")) == 1, protocol
            gateway.stop()
    finally:
        bridge.clear("Status/CurMachSpeed")
        bridge.close()


def test_a_wide_template_never_ingests_our_own_topics_or_sparkplug_twice(
    mosquitto: Mosquitto, start_gateway: Callable[..., Gateway], site: str
) -> None:
    sink = MemorySink()
    watcher = Watcher(mosquitto, "shopfloor/_deadletter/#")
    start_gateway(
        sink,
        decode={
            "topic_templates": [
                "shopfloor/{site}/{line}/{machine}/{kind}",
                "{site}/{area}/{line}/{field*}",
            ],
            "field_types": {"Status/*": "string"},
        },
    )
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    try:
        alert = json.dumps({"alert_id": 1, "version": 1})
        for topic, payload in (
            (f"shopfloor/{site}/alerts/order/SO-1/late", alert),
            (f"shopfloor/{site}/dispatch/cnc-1", '{"machine": "cnc-1", "jobs": []}'),
            ("shopfloor/_deadletter/tracker", '{"reason": "x"}'),
            ("spBv1.0/g1/STATE/host", '{"online": true}'),
            ("spBv1.0/g1/NCMD/node", "x"),
            (f"{site}/Area/Line3/Status/StateCurrentStr", "Execute"),
        ):
            publisher.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_for(lambda: sink.having("StateCurrentStr"), "the bridge's value")
        time.sleep(0.3)
        # the template is wide: retained messages other tests left on the broker match it too
        mine = sink.having(f"site={site}")
        assert len(mine) == 1 and 'StateCurrentStr="Execute"' in mine[0]
        ours = [
            body for body in watcher.on("shopfloor/_deadletter/gateway") if site.encode() in body
        ]
        assert not ours
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        watcher.close()

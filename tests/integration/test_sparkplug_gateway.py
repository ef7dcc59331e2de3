"""The gateway as a Sparkplug B host on a real Mosquitto: births, seq, rebirths, deaths, events."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from device_sim.jobs import Job
from device_sim.runner import run
from device_sim.simulation import Simulation
from gateway.service import Gateway
from gateway.sparkplug.settings import SparkplugSettings
from shopfloor.contract.payloads import CycleEvent, parse_event
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from shopfloor.mqtt import MqttSettings
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from tests.gateway_helpers import Gateways, MemorySink, Watcher, wait_for
from tests.services import Mosquitto
from tests.sparkplug_helpers import ScriptedEdge, edge_node

pytestmark = pytest.mark.integration


class Observer(Watcher):
    """Records what the host publishes: events, NCMDs, STATE and dead letters."""

    def __init__(self, broker: Mosquitto, group: str) -> None:
        super().__init__(
            broker,
            f"shopfloor/{group}/+/+/event",
            f"spBv1.0/{group}/NCMD/+",
            "spBv1.0/STATE/+",
            "shopfloor/_deadletter/#",
        )


@pytest.fixture
def group() -> str:
    return f"g{secrets.token_hex(3)}"


@pytest.fixture
def observer(mosquitto: Mosquitto, group: str) -> Iterator[Observer]:
    obs = Observer(mosquitto, group)
    yield obs
    obs.close()


@pytest.fixture
def start_gateway(
    mosquitto: Mosquitto, group: str, tmp_path: Path
) -> Iterator[Callable[[MemorySink], Gateway]]:
    client_id = f"gw-spb-{secrets.token_hex(3)}"  # one session: a restart finds its queue
    gateways = Gateways(mosquitto, tmp_path)
    host = SparkplugSettings(
        enabled=True,
        host_id=f"host-{group}",
        group=group,
        reorder_timeout_s=0.3,
        rebirth_retry_s=2,
    )
    yield lambda sink: gateways.start(sink, client_id, sparkplug=host)
    gateways.stop_all()


def test_the_host_state_is_retained_online_then_offline(
    start_gateway: Callable[[MemorySink], Gateway], observer: Observer, group: str
) -> None:
    gateway = start_gateway(MemorySink())
    topic = f"spBv1.0/STATE/host-{group}"
    wait_for(lambda: observer.on(topic), "STATE online")
    online = json.loads(observer.on(topic)[0])
    assert online["online"] is True and isinstance(online["timestamp"], int)
    gateway.stop()
    wait_for(lambda: len(observer.on(topic)) >= 2, "STATE offline")
    offline = json.loads(observer.on(topic)[-1])
    assert offline == {"online": False, "timestamp": offline["timestamp"]}


def test_births_and_data_by_alias_are_stored_with_node_and_device_tags(
    start_gateway: Callable[[MemorySink], Gateway], mosquitto: Mosquitto, group: str
) -> None:
    sink = MemorySink()
    start_gateway(sink)
    edge = ScriptedEdge(mosquitto.host, mosquitto.port, edge_node(group), ["press"])
    try:
        edge.birth()
        edge.send({"Spindle/Temp": 55.5})
        edge.send({"Force": 12.5}, device="press")
        wait_for(lambda: sink.having("Spindle_Temp=55.5"), "node data")
        wait_for(lambda: sink.having("Force=12.5"), "device data")
        (device_line,) = sink.having("Force=12.5")
        assert device_line.startswith(
            f"telemetry,device=press,edge_node=plc-1,group={group},line=plc-1,machine=press,"
        )
        assert edge.rebirths == 0
    finally:
        edge.close()


def test_a_seq_gap_gets_a_rebirth_request_and_the_node_recovers(
    start_gateway: Callable[[MemorySink], Gateway],
    mosquitto: Mosquitto,
    observer: Observer,
    group: str,
) -> None:
    sink = MemorySink()
    start_gateway(sink)
    edge = ScriptedEdge(mosquitto.host, mosquitto.port, edge_node(group), [])
    try:
        edge.birth()
        edge.send({"Spindle/Temp": 1.0})
        edge.session.skip_seq()  # a QoS 0 message lost on the way
        edge.send({"Spindle/Temp": 3.0})
        wait_for(lambda: edge.rebirths >= 1, "a rebirth request")
        ncmd = Payload.FromString(observer.on(f"spBv1.0/{group}/NCMD/plc-1")[0])
        assert [(m.name, m.boolean_value) for m in ncmd.metrics] == [("Node Control/Rebirth", True)]
        edge.send({"Spindle/Temp": 4.0})
        wait_for(lambda: sink.having("Spindle_Temp=4.0"), "data after the rebirth")
        assert sink.having("Spindle_Temp=3.0")  # what came after the gap was written
        time.sleep(0.5)
        assert edge.rebirths == 1  # recovered: no more requests
    finally:
        edge.close()


def test_a_lost_connection_publishes_the_death_and_offline_events(
    start_gateway: Callable[[MemorySink], Gateway],
    mosquitto: Mosquitto,
    observer: Observer,
    group: str,
) -> None:
    start_gateway(MemorySink())
    edge = ScriptedEdge(mosquitto.host, mosquitto.port, edge_node(group), ["press"])
    edge.birth()
    edge.send({"Machine/State": "RUNNING"})
    wait_for(lambda: observer.on(f"shopfloor/{group}/plc-1/plc-1/event"), "a state event")
    edge.drop()
    for machine in ("plc-1", "press"):
        topic = f"shopfloor/{group}/plc-1/{machine}/event"
        wait_for(lambda t=topic: any(b"OFFLINE" in p for p in observer.on(t)), "OFFLINE " + machine)
        event = parse_event(observer.on(topic)[-1])
        assert event.type == "state" and event.state == "OFFLINE"


def test_after_a_gateway_restart_data_gets_a_rebirth_request_and_state_is_rebuilt(
    start_gateway: Callable[[MemorySink], Gateway],
    mosquitto: Mosquitto,
    observer: Observer,
    group: str,
) -> None:
    first = start_gateway(MemorySink())
    edge = ScriptedEdge(mosquitto.host, mosquitto.port, edge_node(group), [])
    try:
        edge.birth()
        edge.send({"Spindle/Temp": 10.0})
        first.stop()
        edge.send({"Spindle/Temp": 11.0}, qos=1)  # queued in the gateway's session
        sink = MemorySink()
        start_gateway(sink)
        wait_for(lambda: edge.rebirths >= 1, "a rebirth request")
        dead = [json.loads(p) for p in observer.on("shopfloor/_deadletter/gateway")]
        assert any(d["reason"] == "sparkplug_no_birth" for d in dead)
        assert not sink.having("Spindle_Temp=11.0")  # never written as if its aliases were known
        edge.send({"Spindle/Temp": 12.0})
        wait_for(lambda: sink.having("Spindle_Temp=12.0"), "data after the rebirth")
    finally:
        edge.close()


def test_a_simulated_sparkplug_machine_drives_cycle_events_the_tracker_reads(
    start_gateway: Callable[[MemorySink], Gateway],
    mosquitto: Mosquitto,
    observer: Observer,
    group: str,
) -> None:
    sink = MemorySink()
    start_gateway(sink)
    sim = Simulation([], [Job.parse("SO-9:10:cnc-7:3:1.0")], seed=3, speed=20, site=group)
    settings = MqttSettings(host=mosquitto.host, port=mosquitto.port)
    template = TopicTemplate(DEFAULT_TEMPLATE)
    run(sim, settings, template, exit_when_done=True, duration_s=30, sparkplug=["cnc-7"])
    topic = f"shopfloor/{group}/cnc-7/cnc-7/event"
    wait_for(lambda: any(b'"job_end"' in p for p in observer.on(topic)), "the job's end")
    events = [parse_event(p) for p in observer.on(topic)]
    counted = [e for e in events if isinstance(e, CycleEvent)]
    assert [(c.counter, c.baseline) for c in counted[:1]] == [(0, True)]  # the birth's counter
    cycles = counted[1:]
    assert [c.counter for c in cycles] == [1, 2, 3]
    assert {(c.order_id, c.operation) for c in cycles} == {("SO-9", 10)}
    types = [e.type for e in events if not (isinstance(e, CycleEvent) and e.baseline)]
    assert types.index("job_start") < types.index("cycle") < types.index("job_end")
    assert sink.having("spindle_temp_c=")  # its readings went to the store as well

"""The Sparkplug host core: births, aliases, seq order, rebirth requests, deaths, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from gateway.metrics import GatewayMetrics
from gateway.sparkplug.bridge import SparkplugBridge
from gateway.sparkplug.host import SparkplugHost
from gateway.sparkplug.settings import MachineMap, SparkplugSettings
from gateway.sparkplug.steps import Handled, Step
from gateway.stats import GatewayStats
from shopfloor.contract.payloads import (
    CycleEvent,
    JobStartEvent,
    PayloadError,
    StateEvent,
    parse_event,
)
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from shopfloor.sparkplug import names
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from tests.sparkplug_helpers import edge_node

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
MS = int(NOW.timestamp() * 1000)


def host(**settings: object) -> SparkplugHost:
    options = {"enabled": True, "reorder_timeout_s": 1.0, "rebirth_retry_s": 5.0, **settings}
    return SparkplugHost(SparkplugSettings.model_validate(options), TopicTemplate(DEFAULT_TEMPLATE))


def one(step: Step) -> Handled:
    assert len(step.handled) == 1, step
    return step.handled[0]


def test_a_node_birth_registers_aliases_and_data_by_alias_becomes_typed_points() -> None:
    h, node = host(), edge_node()
    birth = one(h.receive(*node.node_birth(MS), NOW, tag="b"))
    assert birth.error is None and birth.tag == "b"
    assert 'Machine_State="IDLE"' in birth.lines[0] and "Spindle_Temp=21.5" in birth.lines[0]
    assert "bdSeq" not in birth.lines[0] and "Rebirth" not in birth.lines[0]
    data = one(h.receive(*node.data(None, {"Spindle/Temp": 40.25}, MS + 5), NOW, tag="d"))
    assert data.error is None
    (line,) = data.lines
    assert line == (
        "telemetry,edge_node=plc-1,group=plant1,line=plc-1,machine=plc-1,site=plant1 "
        f"Spindle_Temp=40.25 {(MS + 5) * 1_000_000}"
    )


def test_device_data_needs_its_dbirth_and_is_tagged_with_the_device() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    early = one(h.receive(*node.data("press", {"Force": 1.5}, MS), NOW))
    assert early.error is not None and early.error.reason == "sparkplug_no_birth"
    node2 = edge_node()
    h2 = host()
    h2.receive(*node2.node_birth(MS), NOW)
    h2.receive(*node2.device_birth("press", MS), NOW)
    data = one(h2.receive(*node2.data("press", {"Force": 1.5}, MS), NOW))
    assert (
        data.error is None and "device=press" in data.lines[0] and "machine=press" in data.lines[0]
    )


def test_an_unknown_alias_is_dead_lettered_and_a_rebirth_requested_after_the_timeout() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    payload = Payload(timestamp=MS, seq=1)
    payload.metrics.add(alias=999, datatype=10, double_value=1.0)
    refused = one(h.receive("spBv1.0/plant1/NDATA/plc-1", payload.SerializeToString(), NOW))
    assert refused.error is not None and refused.error.reason == "sparkplug_unknown_alias"
    assert refused.lines == [] and refused.events == []
    assert h.tick(NOW + timedelta(seconds=0.5)).commands == []
    (command,) = h.tick(NOW + timedelta(seconds=1)).commands
    assert command.topic == "spBv1.0/plant1/NCMD/plc-1" and command.qos == 0
    sent = Payload.FromString(command.payload)
    assert [(m.name, m.boolean_value) for m in sent.metrics] == [(names.REBIRTH, True)]
    assert h.tick(NOW + timedelta(seconds=2)).commands == []  # not again before the retry


def test_data_before_any_birth_is_refused_then_a_rebirth_restores_the_node() -> None:
    h, node = host(), edge_node()
    node.node_birth(MS)  # published before the host came: the host never saw it
    refused = one(h.receive(*node.data(None, {"Spindle/Temp": 30.0}, MS), NOW, tag=1))
    assert refused.error is not None and refused.error.reason == "sparkplug_no_birth"
    assert [c.topic for c in h.tick(NOW + timedelta(seconds=1)).commands] == [
        "spBv1.0/plant1/NCMD/plc-1"
    ]
    assert one(h.receive(*node.node_birth(MS + 10), NOW)).error is None
    after = one(h.receive(*node.data(None, {"Spindle/Temp": 31.0}, MS + 20), NOW))
    assert after.error is None and "Spindle_Temp=31.0" in after.lines[0]
    assert h.tick(NOW + timedelta(seconds=30)).commands == []  # the birth cancelled the retry


def test_a_message_ahead_of_its_seq_waits_for_the_missing_one() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    second = node.data(None, {"Spindle/Temp": 1.0}, MS + 1)
    third = node.data(None, {"Spindle/Temp": 2.0}, MS + 2)
    assert h.receive(*third, NOW, tag=3).handled == []
    step = h.receive(*second, NOW, tag=2)
    assert [x.tag for x in step.handled] == [2, 3]
    assert h.tick(NOW + timedelta(seconds=5)).commands == []


def test_a_seq_gap_past_the_timeout_writes_what_came_and_requests_a_rebirth() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    node.skip_seq()  # lost on the way
    assert h.receive(*node.data(None, {"Spindle/Temp": 7.0}, MS + 2), NOW, tag="late").handled == []
    step = h.tick(NOW + timedelta(seconds=1))
    assert [x.tag for x in step.handled] == ["late"] and "Spindle_Temp=7.0" in step.handled[
        0
    ].lines[0]
    assert [c.topic for c in step.commands] == ["spBv1.0/plant1/NCMD/plc-1"]
    follow = one(h.receive(*node.data(None, {"Spindle/Temp": 8.0}, MS + 3), NOW))
    assert follow.error is None  # in order again after the gap


def test_a_seq_gap_counts_a_rebirth_request_by_its_reason_in_prometheus() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    node.skip_seq()
    h.receive(*node.data(None, {"Spindle/Temp": 7.0}, MS + 2), NOW)
    metrics = GatewayMetrics(GatewayStats(), {}, sparkplug=h.stats)
    name = "shopfloor_gateway_sparkplug_rebirth_requests_total"
    assert metrics.registry.get_sample_value(name, {"reason": "seq_gap"}) is None
    assert len(h.tick(NOW + timedelta(seconds=1)).commands) == 1
    assert metrics.registry.get_sample_value(name, {"reason": "seq_gap"}) == 1.0
    h.tick(NOW + timedelta(seconds=6))  # not answered: asked again, for the same reason
    assert metrics.registry.get_sample_value(name, {"reason": "seq_gap"}) == 2.0
    births = "shopfloor_gateway_sparkplug_births_total"
    assert metrics.registry.get_sample_value(births, {"type": "NBIRTH"}) == 1.0


def test_rebirths_births_and_deaths_are_counted_by_reason_and_type() -> None:
    h, node = host(), edge_node()
    h.receive(*node.data(None, {"Spindle/Temp": 1.0}, MS), NOW)  # before any birth
    h.tick(NOW + timedelta(seconds=1))
    h.receive(*node.node_birth(MS), NOW)
    h.receive(*node.device_birth("press", MS), NOW)
    payload = Payload(timestamp=MS, seq=2)
    payload.metrics.add(alias=999, datatype=10, double_value=1.0)
    h.receive("spBv1.0/plant1/NDATA/plc-1", payload.SerializeToString(), NOW)
    h.tick(NOW + timedelta(seconds=1))
    h.receive(*node.device_death("press", MS), NOW)
    h.receive(*node.will(), NOW)
    assert h.stats.snapshot() == {
        "births": {"NBIRTH": 1, "DBIRTH": 1},
        "deaths": {"DDEATH": 1, "NDEATH": 1},
        "rebirth_requests": {"no_birth": 1, "unknown_alias": 1},
        "dead_letters": {},  # counted by the bridge, which dead-letters
    }


class _FakeClient:
    def will_set(self, *args: object, **kwargs: object) -> None:
        pass

    def publish(self, *args: object, **kwargs: object) -> None:
        pass


def test_the_bridge_counts_what_it_dead_letters_by_reason() -> None:
    h, node = host(), edge_node()
    dead: list[PayloadError] = []
    bridge = SparkplugBridge(
        h.settings,
        h,
        _FakeClient(),  # type: ignore[arg-type]
        lambda lines, token: None,
        lambda topic, raw, exc: dead.append(exc),
    )
    bridge.on_message(*node.data(None, {"Spindle/Temp": 1.0}, MS), None)
    bridge.on_message("spBv1.0/plant1/NDATA/plc-1", b"\xff", None)
    assert [e.reason for e in dead] == ["sparkplug_no_birth", "sparkplug_decode"]
    assert h.stats.snapshot()["dead_letters"] == {"sparkplug_no_birth": 1, "sparkplug_decode": 1}


def test_seq_wraps_from_255_to_0() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    for i in range(300):
        handled = one(h.receive(*node.data(None, {"Spindle/Temp": float(i)}, MS + i), NOW))
        assert handled.error is None and handled.lines
    assert h.tick(NOW + timedelta(seconds=10)).commands == []


def test_node_death_with_its_bdseq_publishes_offline_for_its_machines() -> None:
    h, node = host(), edge_node(bd_seq=4)
    h.receive(*node.node_birth(MS), NOW)
    h.receive(*node.device_birth("press", MS), NOW)
    death = one(h.receive(*node.will(), NOW))
    topics = sorted(e.topic for e in death.events)
    assert topics == ["shopfloor/plant1/plc-1/plc-1/event", "shopfloor/plant1/plc-1/press/event"]
    for event in death.events:
        parsed = parse_event(event.payload)
        assert isinstance(parsed, StateEvent) and parsed.state == "OFFLINE"
    assert not h.nodes[("plant1", "plc-1")].born
    refused = one(h.receive(*node.data(None, {"Spindle/Temp": 1.0}, MS), NOW))
    assert refused.error is not None and refused.error.reason == "sparkplug_no_birth"


def test_a_death_will_of_an_older_session_is_refused() -> None:
    h, old = host(), edge_node(bd_seq=1)
    stale_will = old.will()
    new = edge_node(bd_seq=2)
    h.receive(*new.node_birth(MS), NOW)
    refused = one(h.receive(*stale_will, NOW))
    assert refused.error is not None and refused.error.reason == "sparkplug_stale_death"
    assert h.nodes[("plant1", "plc-1")].born


def test_device_death_marks_only_that_device_offline() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    h.receive(*node.device_birth("press", MS), NOW)
    death = one(h.receive(*node.device_death("press", MS + 1), NOW))
    (event,) = death.events
    assert event.topic.endswith("/press/event")
    assert json.loads(event.payload)["state"] == "OFFLINE"
    assert one(h.receive(*node.data(None, {"Spindle/Temp": 2.0}, MS + 2), NOW)).error is None


def test_counter_job_and_state_metrics_become_contract_events() -> None:
    h, node = host(), edge_node()
    birth = one(h.receive(*node.node_birth(MS), NOW))
    born = [parse_event(e.payload) for e in birth.events]
    assert [e.type for e in born] == ["state", "cycle"]
    assert isinstance(born[1], CycleEvent) and born[1].baseline  # the counter's value: no parts
    start = one(
        h.receive(
            *node.data(None, {names.ORDER_METRIC: "SO-7", names.OPERATION_METRIC: 20}, MS + 1), NOW
        )
    )
    (job,) = [parse_event(e.payload) for e in start.events]
    assert isinstance(job, JobStartEvent) and (job.order_id, job.operation) == ("SO-7", 20)
    cycle_msg = node.data(None, {names.COUNTER_METRIC: 1, names.STATE_METRIC: "RUNNING"}, MS + 2)
    events = [parse_event(e.payload) for e in one(h.receive(*cycle_msg, NOW)).events]
    assert [e.type for e in events] == ["state", "cycle"]
    cycle = events[1]
    assert isinstance(cycle, CycleEvent) and cycle.counter == 1 and cycle.order_id == "SO-7"
    assert cycle.ts == datetime.fromtimestamp((MS + 2) / 1000, UTC)
    same = node.data(None, {names.COUNTER_METRIC: 1}, MS + 3)
    assert one(h.receive(*same, NOW)).events == []  # an unchanged counter counts nothing
    end = one(h.receive(*node.data(None, {names.ORDER_METRIC: ""}, MS + 4), NOW))
    assert [parse_event(e.payload).type for e in end.events] == ["job_end"]


def test_a_redelivered_message_gets_the_same_event_ids() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    message = node.data(None, {names.COUNTER_METRIC: 5}, MS + 1)
    first = one(h.receive(*message, NOW)).events
    h2, node2 = host(), edge_node()
    h2.receive(*node2.node_birth(MS), NOW)
    again = one(h2.receive(*node2.data(None, {names.COUNTER_METRIC: 5}, MS + 1), NOW)).events
    assert [e.payload for e in first] == [e.payload for e in again]


def test_configured_machines_and_state_values_are_used() -> None:
    h = host(
        machines=[MachineMap(group="plant1", node="plc-1", machine="lathe-9", line="l2")],
        profiles={"default": {"state_values": {"3": "DOWN"}}},
    )
    node = edge_node()
    h.receive(*node.node_birth(MS), NOW)
    step = one(h.receive(*node.data(None, {names.STATE_METRIC: "3"}, MS + 1), NOW))
    (event,) = step.events
    assert event.topic == "shopfloor/plant1/l2/lathe-9/event"
    assert json.loads(event.payload)["state"] == "DOWN"
    bad = one(h.receive(*node.data(None, {names.STATE_METRIC: "??"}, MS + 2), NOW))
    assert [n.reason for n in bad.notes] == ["mapped_state"] and bad.events == []


def _data(node_seq: int, ts_ms: int, *metrics: tuple[str, int, str, object]) -> tuple[str, bytes]:
    """An NDATA by name whose metrics carry their own datatype and value field."""
    payload = Payload(timestamp=ts_ms, seq=node_seq)
    for name, datatype, field, value in metrics:
        m = payload.metrics.add(name=name, datatype=datatype)
        setattr(m, field, value)
    return "spBv1.0/plant1/NDATA/plc-1", payload.SerializeToString()


def test_numbers_are_read_as_carried_when_the_datatype_flips() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)  # the counter is born UInt64 (int_value)
    step = one(h.receive(*_data(1, MS + 1, (names.COUNTER_METRIC, 9, "float_value", 2.75)), NOW))
    assert step.error is None and step.notes == []
    (cycle,) = [parse_event(e.payload) for e in step.events]
    assert isinstance(cycle, CycleEvent) and cycle.counter == 2  # whole parts of 2.75


def test_a_metric_absent_from_the_birth_is_read_with_its_own_datatype() -> None:
    h, node = host(), edge_node()
    h.receive(*node.node_birth(MS), NOW)
    step = one(h.receive(*_data(1, MS + 1, ("Admin/Alarm/0/Trigger", 3, "int_value", 1)), NOW))
    assert step.error is None
    assert [n.reason for n in step.notes] == ["sparkplug_unknown_metric"]  # said, then read
    assert any("Admin_Alarm_0_Trigger=1.0" in line for line in step.lines)


def test_every_death_of_an_edge_node_that_always_sends_bdseq_0_marks_it_offline() -> None:
    h = host()
    ids = []
    for session in range(3):
        node = edge_node(bd_seq=0)
        h.receive(*node.node_birth(MS + session * 10_000), NOW)
        h.receive(*node.data(None, {names.STATE_METRIC: "RUNNING"}, MS + session * 10_000 + 1), NOW)
        death = one(h.receive(*node.will(), NOW + timedelta(seconds=session)))
        ids += [parse_event(e.payload).event_id for e in death.events]
    assert len(ids) == 3 and len(set(ids)) == 3

"""Tags to machine events: PackML one-value topics, Kepware and Node-RED JSON, declared maps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from gateway.mapping.mapper import MachineMapper, TagValue
from gateway.mapping.problems import ProblemGate
from gateway.mapping.router import TagMappings
from gateway.mapping.spec import MachineSource, Source
from shopfloor.contract.payloads import MachineState, parse_event
from shopfloor.contract.topics import TopicTemplate

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
S = 1_000_000_000
TEMPLATE = TopicTemplate("shopfloor/{site}/{line}/{machine}/{kind}")
PACKML = {
    "topic": "Site/Area/Line1/{tag*}",
    "state": {"tag": "Status/StateCurrentStr", "preset": "packml"},
    "good": "Admin/ProdProcessedCount/0/AccCount",
    "scrap": "Admin/ProdDefectiveCount/0/AccCount",
}


def mappings(*machines: dict[str, object]) -> TagMappings:
    declared = [MachineSource.model_validate(m) for m in machines]
    return TagMappings(declared, TEMPLATE, "plant1")


def events(m: TagMappings, topic: str, payload: str, at: datetime = NOW) -> list[dict[str, object]]:
    out = m.convert(topic, payload.encode(), at)
    assert out is not None
    return [json.loads(e.payload) for e in out.events]


def test_packml_state_names_and_codes_map_to_machine_states() -> None:
    m = mappings({"id": "filler-1", "source": PACKML})
    (execute,) = events(m, "Site/Area/Line1/Status/StateCurrentStr", "Execute")
    assert execute["state"] == "RUNNING"
    assert events(m, "Site/Area/Line1/Status/StateCurrentStr", "Execute") == []  # no change
    assert events(m, "Site/Area/Line1/Status/StateCurrentStr", "aborted")[0]["state"] == "DOWN"
    assert events(m, "Site/Area/Line1/Status/StateCurrentStr", "Stopped")[0]["state"] == "IDLE"
    assert events(m, "Site/Area/Line1/Status/StateCurrentStr", "11")[0]["state"] == "DOWN"  # Held


def test_a_plant_declares_what_its_stopped_state_means() -> None:
    source = {**PACKML, "state": {"tag": "S", "preset": "packml", "values": {"Stopped": "DOWN"}}}
    m = mappings({"id": "filler-1", "source": source})
    assert events(m, "Site/Area/Line1/S", "Stopped")[0]["state"] == "DOWN"


def test_fractional_counters_count_whole_parts_after_a_baseline() -> None:
    m = mappings({"id": "filler-1", "source": PACKML})
    topic = "Site/Area/Line1/Admin/ProdProcessedCount/0/AccCount"
    (first,) = events(m, topic, "228.18")
    assert first["baseline"] is True and first["counter"] == 228
    assert events(m, topic, "228.9") == []
    (part,) = events(m, topic, "229.0333333")
    assert part["counter"] == 229 and "baseline" not in part


def test_a_bridge_restart_that_zeroes_the_counter_is_a_reset() -> None:
    m = mappings({"id": "filler-1", "source": PACKML})
    topic = "Site/Area/Line1/Admin/ProdProcessedCount/0/AccCount"
    events(m, topic, "50.5")
    (reset,) = events(m, topic, "0")
    assert reset["counter"] == 0
    assert events(m, topic, "1.66")[0]["counter"] == 1


def test_scrap_rides_with_the_good_counter() -> None:
    m = mappings({"id": "filler-1", "source": PACKML})
    events(m, "Site/Area/Line1/Admin/ProdProcessedCount/0/AccCount", "10")
    (baseline,) = events(m, "Site/Area/Line1/Admin/ProdDefectiveCount/0/AccCount", "2.5")
    assert baseline == {**baseline, "counter": 10, "scrap_counter": 2, "baseline": True}
    (scrap,) = events(m, "Site/Area/Line1/Admin/ProdDefectiveCount/0/AccCount", "3.1")
    assert (scrap["counter"], scrap["scrap_counter"]) == (10, 3)


def test_bad_values_are_problems_and_the_rest_flows() -> None:
    m = mappings({"id": "filler-1", "source": PACKML})
    out = m.convert("Site/Area/Line1/Admin/ProdProcessedCount/0/AccCount", b"lots", NOW)
    assert out is not None and [p.reason for _m, p in out.problems] == ["mapped_counter"]
    assert out.lines  # the text is still stored as telemetry
    state = m.convert("Site/Area/Line1/Status/StateCurrentStr", b"Dancing", NOW)
    assert state is not None and [p.reason for _m, p in state.problems] == ["mapped_state"]
    assert "'Dancing'" in state.problems[0][1].detail


def test_a_problem_is_told_once_per_cause() -> None:
    m, gate = mappings({"id": "filler-1", "source": PACKML}), ProblemGate()
    told = []
    for value in (b"Dancing", b"Dancing", b"Singing", b"Dancing"):
        out = m.convert("Site/Area/Line1/Status/StateCurrentStr", value, NOW)
        assert out is not None
        told += [gate.first(machine, p) for machine, p in out.problems]
    assert told == [True, False, True, False]


def test_unmapped_tags_are_telemetry_only_and_text_is_a_string_field() -> None:
    m = mappings({"id": "filler-1", "source": PACKML})
    out = m.convert("Site/Area/Line1/Admin/ProdProcessedCount/0/Name", b"Finished Goods", NOW)
    assert out is not None and out.events == [] and out.problems == []
    (line,) = out.lines
    assert line.startswith("telemetry,line=filler-1,machine=filler-1,site=plant1 ")
    assert 'Admin/ProdProcessedCount/0/Name="Finished Goods"' in line


def test_other_topics_are_not_the_mappings() -> None:
    m = mappings({"id": "filler-1", "source": PACKML})
    assert m.convert("Site/Area/Line2/Status/StateCurrentStr", b"Execute", NOW) is None


def test_one_entry_maps_every_line_by_its_topic_level() -> None:
    m = mappings({"id": "{line}", "source": {**PACKML, "topic": "Site/Area/{line}/{tag*}"}})
    out = m.convert("Site/Area/L7/Status/StateCurrentStr", b"Execute", NOW)
    assert out is not None and out.events[0].topic == "shopfloor/plant1/L7/L7/event"
    spaced = m.convert("Site/Area/Line 1/Status/StateCurrentStr", b"Execute", NOW)
    assert spaced is not None and [p.reason for _m, p in spaced.problems] == ["mapped_machine"]


def test_kepware_json_values_with_their_own_times_and_quality() -> None:
    source = {
        "kind": "json",
        "topic": "iotgateway/press-4",
        "items": "values",
        "id": "id",
        "value": "v",
        "ts": "t",
        "quality": "q",
        "state": {"tag": "Press4.Status.State", "values": {"1": "RUNNING", "0": "IDLE"}},
        "good": "Press4.Counters.Good",
        "alarm": {"tag": "Press4.Alarm.Code", "text": "Press4.Alarm.Text"},
    }
    m = mappings({"id": "press-4", "source": source})
    t0 = int(NOW.timestamp() * 1000)

    def message(ms: int, *values: tuple[str, object, bool]) -> str:
        items = [{"id": i, "v": v, "q": q, "t": ms} for i, v, q in values]
        return json.dumps({"timestamp": ms, "values": items})

    first = events(
        m,
        "iotgateway/press-4",
        message(
            t0,
            ("Press4.Status.State", 1, True),
            ("Press4.Counters.Good", 41, True),
            ("Press4.Alarm.Code", 0, True),
        ),
    )
    assert [e["type"] for e in first] == ["state", "cycle"]
    later = events(
        m,
        "iotgateway/press-4",
        message(
            t0 + 1000,
            ("Press4.Counters.Good", 43, True),
            ("Press4.Counters.Good", 99, False),  # bad quality: not taken
            ("Press4.Alarm.Code", "E-17", True),
            ("Press4.Alarm.Text", "die jammed", True),
        ),
    )
    assert [(e["type"], e.get("counter"), e.get("code")) for e in later] == [
        ("cycle", 43, None),
        ("alarm", None, "E-17"),
    ]
    assert later[1]["message"] == "die jammed"
    assert parse_event(json.dumps(later[0]).encode()).ts == datetime.fromtimestamp(
        (t0 + 1000) / 1000, UTC
    )


def test_node_red_objects_are_tags_by_their_path() -> None:
    source = {
        "kind": "json",
        "topic": "plant/lathe-2/data",
        "ts": "time",
        "state": {"tag": "status.state", "values": {"run": "RUNNING", "stop": "IDLE"}},
        "good": {"tag": "parts", "kind": "increment"},
        "order": "job.order",
        "operation": "job.step",
    }
    m = mappings({"id": "lathe-2", "source": source})
    got = events(
        m,
        "plant/lathe-2/data",
        json.dumps(
            {
                "time": "2026-12-07T08:00:00Z",
                "status": {"state": "run"},
                "parts": 1,
                "job": {"order": "SO-7", "step": 20},
            }
        ),
    )
    assert [e["type"] for e in got] == ["state", "job_start", "cycle", "cycle"]
    assert (got[1]["order_id"], got[1]["operation"]) == ("SO-7", 20)
    assert [(e["counter"], e.get("baseline")) for e in got[2:]] == [(0, True), (1, None)]


def test_redelivered_messages_give_the_same_event_ids() -> None:
    topic, payload = (
        "Site/Area/Line1/Status/StateCurrentStr",
        '{"value": "Execute", "ts": 1765094400000}',
    )
    first = events(mappings({"id": "f", "source": PACKML}), topic, payload)
    again = events(mappings({"id": "f", "source": PACKML}), topic, payload)
    assert first == again and first[0]["event_id"].startswith("map-")


def test_mapper_ignores_empty_states_and_known_alarms() -> None:
    source = Source.model_validate({**PACKML, "alarm": "Admin/Alarm/0/ID"})
    mapper = MachineMapper("f", source)
    assert mapper.apply([TagValue("Status/StateCurrentStr", "", S)]).events == []
    snapshot = [TagValue("Admin/Alarm/0/ID", 7, S)]
    assert mapper.apply(snapshot, birth=True).events == []  # a birth or a retained value
    assert mapper.apply([TagValue("Admin/Alarm/0/ID", 7, 2 * S)]).events == []  # known
    assert mapper.apply([TagValue("Admin/Alarm/0/ID", 8, 2 * S)]).events[0].code == "8"
    assert mapper.apply([TagValue("Admin/Alarm/0/ID", 0, 3 * S)]).events == []
    offline = mapper.offline(NOW, "will")
    assert offline.state is MachineState.OFFLINE


@pytest.mark.parametrize(
    "source",
    [
        {"topic": "a/b"},  # no {tag*}
        {"kind": "json"},  # no topic
        {"kind": "json", "topic": "a/{tag*}"},
        {"kind": "sparkplug", "group": "g"},
        {"topic": "a/#/{tag*}"},
        {"topic": "a/{tag*}", "cycle_time": {}},
        {"topic": "a/{tag*}", "site": "x/y"},
    ],
)
def test_sources_that_cannot_work_are_refused_at_start(source: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MachineSource.model_validate({"id": "m", "source": source})


def test_a_job_starts_once_its_order_and_operation_are_both_known() -> None:
    source = Source.model_validate({"topic": "a/{tag*}", "order": "Order", "operation": "Op"})
    mapper = MachineMapper("m", source)
    assert mapper.apply([TagValue("Order", "SO-1", S)]).events == []  # its operation: not yet
    (start,) = mapper.apply([TagValue("Op", 10, 2 * S)]).events
    assert (start.type, start.order_id, start.operation) == ("job_start", "SO-1", 10)
    end, nxt = mapper.apply([TagValue("Op", 20, 3 * S)]).events
    assert (end.type, end.operation, nxt.type, nxt.operation) == ("job_end", 10, "job_start", 20)
    (last,) = mapper.apply([TagValue("Order", "", 4 * S)]).events
    assert (last.type, last.order_id, last.operation) == ("job_end", "SO-1", 20)


def test_one_tag_several_times_in_a_message_is_taken_in_time_order() -> None:
    source = Source.model_validate(
        {"topic": "a/{tag*}", "state": "S", "good": {"tag": "P", "kind": "per_message"}}
    )
    mapper = MachineMapper("m", source)
    values = [
        TagValue("S", "RUNNING", S),
        TagValue("P", True, S),
        TagValue("S", "IDLE", 2 * S),
        TagValue("P", True, 2 * S),
        TagValue("S", "RUNNING", 3 * S),
        TagValue("P", True, 3 * S),
    ]
    events = mapper.apply(values).events
    assert [e.state for e in events if e.type == "state"] == ["RUNNING", "IDLE", "RUNNING"]
    assert [e.counter for e in events if e.type == "cycle"][-1] == 3  # three parts, not one


def test_an_order_without_its_operation_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="order and operation go together"):
        Source.model_validate({"topic": "a/{tag*}", "order": "Order"})

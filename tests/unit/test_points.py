"""Line protocol: escaping, floats, exact timestamps, one point per event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.points import (
    EVENT_MEASUREMENT,
    TELEMETRY_MEASUREMENT,
    epoch_ns,
    escape_key,
    event_line,
    series_key,
    telemetry_line,
)
from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineState,
    StateEvent,
    TelemetryReading,
)

TS = datetime(2024, 3, 1, 8, 0, 0, 123_456, tzinfo=UTC)
TS_NS = 1_709_280_000_123_456_000
ARRIVAL = datetime(2024, 3, 1, 9, tzinfo=UTC)
ARRIVAL_NS = 1_709_283_600_000_000_000
TAGS = {"site": "plant1", "line": "line1", "machine": "cnc-1"}


def _reading(values: dict[str, float], ts: datetime | None = TS) -> TelemetryReading:
    return TelemetryReading(ts=ts, values=values)


def _split(line: str) -> tuple[str, str, int]:
    """(measurement+tags, fields, timestamp) of a line without escaped spaces in it."""
    head, fields, ts = line.split(" ")
    return head, fields, int(ts)


# --- escaping and numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("cnc 1", r"cnc\ 1"),
        ("a,b", r"a\,b"),
        ("k=v", r"k\=v"),
        ("a b,c=d", r"a\ b\,c\=d"),
        ("two\nlines", r"two\nlines"),
    ],
)
def test_tag_and_field_keys_escape_spaces_commas_and_equals(raw: str, escaped: str) -> None:
    assert escape_key(raw) == escaped


def test_tags_with_special_characters_are_escaped_in_the_line() -> None:
    tags = {"machine": "cnc 1", "line": "a,b", "site": "x=y"}

    line = telemetry_line(tags, _reading({"t": 1}), TS)

    assert line == rf"telemetry,line=a\,b,machine=cnc\ 1,site=x\=y t=1.0 {TS_NS}"


def test_field_keys_with_special_characters_are_escaped() -> None:
    line = telemetry_line({}, _reading({"spindle temp": 1, "a,b": 2, "c=d": 3}), TS)

    assert line == rf"telemetry spindle\ temp=1.0,a\,b=2.0,c\=d=3.0 {TS_NS}"


def test_tags_are_sorted_by_key() -> None:
    line = telemetry_line({"z": "1", "a": "2", "m": "3"}, _reading({"v": 1}), TS)

    assert line.startswith("telemetry,a=2,m=3,z=1 ")


def test_empty_tag_values_are_left_out() -> None:
    line = telemetry_line({"machine": "m1", "line": ""}, _reading({"v": 1}), TS)

    assert line.startswith("telemetry,machine=m1 ")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (42, "42.0"),
        (0, "0.0"),
        (-3, "-3.0"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e20, "1e+20"),
    ],
)
def test_values_are_always_written_as_floats_with_full_precision(
    value: float, written: str
) -> None:
    _, fields, _ = _split(telemetry_line({}, _reading({"v": value}), TS))

    assert fields == f"v={written}"
    assert not fields.endswith("i")  # never an integer field, whatever the device sent


# --- timestamps ------------------------------------------------------------------------------


def test_epoch_ns_is_exact_to_the_microsecond() -> None:
    assert epoch_ns(TS) == TS_NS
    assert epoch_ns(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert epoch_ns(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)) == 1_000


def test_epoch_ns_does_not_lose_precision_far_from_the_epoch() -> None:
    # float seconds would round these microseconds away
    ts = datetime(2262, 4, 11, 23, 47, 16, 854_775, tzinfo=UTC)

    assert epoch_ns(ts) == 9_223_372_036_854_775_000


def test_epoch_ns_before_the_epoch_is_negative() -> None:
    assert epoch_ns(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)) == -1_000_000_000


def test_epoch_ns_of_a_non_utc_time_is_the_same_instant() -> None:
    local = TS.astimezone(timezone(timedelta(hours=2)))

    assert epoch_ns(local) == TS_NS


def test_device_time_is_the_point_time() -> None:
    _, _, ts = _split(telemetry_line(TAGS, _reading({"v": 1}), ARRIVAL))

    assert ts == TS_NS


def test_arrival_time_is_used_when_the_reading_has_no_time() -> None:
    _, _, ts = _split(telemetry_line(TAGS, _reading({"v": 1}, ts=None), ARRIVAL))

    assert ts == ARRIVAL_NS


def test_event_without_time_uses_the_arrival_time() -> None:
    event = StateEvent(event_id="e", type="state", state=MachineState.IDLE)

    _, _, ts = _split(event_line(TAGS, event, ARRIVAL))

    assert ts == ARRIVAL_NS


# --- whole lines -----------------------------------------------------------------------------


def test_telemetry_line_has_measurement_tags_fields_and_time() -> None:
    line = telemetry_line(TAGS, _reading({"spindle_temp_c": 41.5, "power_kw": 7}), ARRIVAL)

    assert line == (
        f"{TELEMETRY_MEASUREMENT},line=line1,machine=cnc-1,site=plant1 "
        f"spindle_temp_c=41.5,power_kw=7.0 {TS_NS}"
    )


def _event_fields(event: Any) -> tuple[str, str]:
    head, fields, ts = _split(event_line(TAGS, event, ARRIVAL))
    assert ts == TS_NS
    return head, fields


def test_state_event_is_one_point_tagged_with_its_type() -> None:
    head, fields = _event_fields(
        StateEvent(ts=TS, event_id="m1-1", type="state", state=MachineState.RUNNING)
    )

    assert head == f"{EVENT_MEASUREMENT},line=line1,machine=cnc-1,site=plant1,type=state"
    assert fields == 'event_id="m1-1",state="RUNNING"'


@pytest.mark.parametrize(("cls", "kind"), [(JobStartEvent, "job_start"), (JobEndEvent, "job_end")])
def test_job_events_carry_order_and_operation(cls: Any, kind: str) -> None:
    head, fields = _event_fields(
        cls(ts=TS, event_id="m1-2", type=kind, order_id="SO-1", operation=10)
    )

    assert head.endswith(f",type={kind}")
    assert fields == 'event_id="m1-2",order_id="SO-1",operation=10.0'


def test_cycle_event_writes_counters_and_cycle_time_as_floats() -> None:
    head, fields = _event_fields(
        CycleEvent(
            ts=TS,
            event_id="m1-3",
            type="cycle",
            counter=12,
            scrap_counter=1,
            cycle_time_s=2.5,
            order_id="SO-1",
            operation=10,
        )
    )

    assert head.endswith(",type=cycle")
    assert fields == 'event_id="m1-3",counter=12.0,scrap_counter=1.0,cycle_time_s=2.5'


def test_cycle_event_leaves_out_missing_optional_fields() -> None:
    _, fields = _event_fields(CycleEvent(ts=TS, event_id="m1-3", type="cycle", counter=12))

    assert fields == 'event_id="m1-3",counter=12.0'


def test_alarm_event_writes_code_and_message_as_strings() -> None:
    _, fields = _event_fields(
        AlarmEvent(ts=TS, event_id="m1-4", type="alarm", code="E42", message="coolant_low")
    )

    assert fields == 'event_id="m1-4",code="E42",message="coolant_low"'


def test_string_fields_escape_quotes_backslashes_and_newlines() -> None:
    event = AlarmEvent(
        ts=TS, event_id="e", type="alarm", code="E1", message='say "hi"\\now\nnext line'
    )

    line = event_line({}, event, ARRIVAL)

    assert r'message="say \"hi\"\\now\nnext line"' in line
    assert "\n" not in line


def test_event_type_tag_overrides_a_topic_tag_named_type() -> None:
    event = StateEvent(ts=TS, event_id="e", type="state", state=MachineState.IDLE)

    line = event_line({"type": "lathe", "machine": "m1"}, event, ARRIVAL)

    assert line.startswith("events,machine=m1,type=state ")


def test_series_key_is_the_measurement_and_sorted_escaped_tags() -> None:
    assert series_key("telemetry", {"z": "a b", "a": "x,y", "e": ""}) == r"telemetry,a=x\,y,z=a\ b"

"""Payload parsing: telemetry and events become frozen models, or a PayloadError with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from shopfloor.contract.payloads import (
    MAX_NAME_LENGTH,
    AlarmEvent,
    CycleEvent,
    JobEndEvent,
    JobStartEvent,
    MachineState,
    OrderAlert,
    PayloadError,
    StateEvent,
    TelemetryReading,
    encode,
    parse_event,
    parse_telemetry,
    parse_timestamp,
)


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _reason(excinfo: pytest.ExceptionInfo[PayloadError]) -> str:
    return excinfo.value.reason


# --- timestamps ------------------------------------------------------------------------------


def test_rfc3339_timestamp_with_offset_is_converted_to_utc() -> None:
    ts = parse_timestamp("2024-03-01T10:00:00.250+02:00")

    assert ts == datetime(2024, 3, 1, 8, 0, 0, 250_000, tzinfo=UTC)
    assert ts is not None and ts.utcoffset() == timedelta(0)


def test_rfc3339_timestamp_with_z_suffix_is_utc() -> None:
    assert parse_timestamp("2024-03-01T08:00:00Z") == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_integer_timestamp_is_epoch_milliseconds() -> None:
    assert parse_timestamp(1_700_000_000_123) == datetime(
        2023, 11, 14, 22, 13, 20, 123_000, tzinfo=UTC
    )


def test_missing_timestamp_stays_none_so_arrival_time_is_used() -> None:
    assert parse_timestamp(None) is None
    (reading,) = parse_telemetry(_json({"values": {"a": 1}}))
    assert reading.ts is None


def test_aware_datetime_is_accepted_and_normalised_to_utc() -> None:
    local = datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=2)))

    assert parse_timestamp(local) == datetime(2024, 3, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01T10:00:00",  # naive: no offset
        "2024-03-01",  # a date only is naive too
        datetime(2024, 3, 1, 10),  # noqa: DTZ001 - naive on purpose
        "yesterday",
        "",
        True,  # a boolean is not epoch milliseconds
        False,
        float("nan"),
        float("inf"),
        [1, 2],
        {"ms": 1},
    ],
)
def test_unusable_timestamp_is_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_naive_timestamp_in_a_payload_is_a_schema_error_naming_ts() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(_json({"ts": "2024-03-01T10:00:00", "values": {"a": 1}}))

    assert _reason(excinfo) == "schema"
    assert "ts" in excinfo.value.detail
    assert "offset" in excinfo.value.detail


@pytest.mark.parametrize("ts", ["1e300", str(10**400)])
def test_out_of_range_epoch_timestamp_is_a_payload_error(ts: str) -> None:
    payload = b'{"type":"cycle","event_id":"e1","counter":1,"ts":' + ts.encode() + b"}"

    with pytest.raises(PayloadError):
        parse_event(payload)


# --- telemetry -------------------------------------------------------------------------------


def test_single_reading_parses_to_one_frozen_reading_with_float_values() -> None:
    (reading,) = parse_telemetry(
        _json({"ts": "2024-03-01T08:00:00Z", "values": {"temp_c": 42, "load": 0.5}})
    )

    assert reading.ts == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert reading.values == {"temp_c": 42.0, "load": 0.5}
    assert all(type(v) is float for v in reading.values.values())
    with pytest.raises(ValidationError):
        reading.values = {}  # type: ignore[misc]


def test_array_of_readings_parses_in_order() -> None:
    readings = parse_telemetry(
        _json([{"ts": 1_000, "values": {"a": 1}}, {"ts": 2_000, "values": {"a": 2}}])
    )

    assert [r.values["a"] for r in readings] == [1.0, 2.0]
    assert [r.ts for r in readings] == [
        datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 0, 2, tzinfo=UTC),
    ]


def test_unknown_fields_are_ignored() -> None:
    (reading,) = parse_telemetry(_json({"values": {"a": 1}, "firmware": "1.2"}))

    assert reading.values == {"a": 1.0}


def test_empty_array_is_refused() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(b"[]")

    assert _reason(excinfo) == "schema"


def test_bad_item_in_an_array_is_reported_with_its_index() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(_json([{"values": {"a": 1}}, {"values": {"a": "hot"}}]))

    assert _reason(excinfo) == "schema"
    assert excinfo.value.detail.startswith("1.values")


@pytest.mark.parametrize(
    "data",
    [
        {"values": {}},
        {"values": []},
        {"values": "a=1"},
        {"ts": "2024-03-01T08:00:00Z"},
        {"values": {"a": "1.5"}},
        {"values": {"a": None}},
        {"values": {"a": [1]}},
        {"values": {"": 1}},
        {"values": {"x" * (MAX_NAME_LENGTH + 1): 1}},
        "just a string",
        42,
        None,
    ],
)
def test_malformed_reading_is_a_schema_error(data: Any) -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(_json(data))

    assert _reason(excinfo) == "schema"


def test_value_name_of_maximum_length_is_accepted() -> None:
    name = "x" * MAX_NAME_LENGTH

    (reading,) = parse_telemetry(_json({"values": {name: 1}}))

    assert name in reading.values


@pytest.mark.parametrize("flag", [True, False])
def test_boolean_is_not_accepted_as_a_number(flag: bool) -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(_json({"values": {"door_open": flag}}))

    assert _reason(excinfo) == "schema"
    assert "door_open" in excinfo.value.detail


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_refused_as_not_finite(constant: bytes) -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(b'{"values": {"a": ' + constant + b"}}")

    assert _reason(excinfo) == "not_finite"


def test_number_that_overflows_to_infinity_is_refused() -> None:
    # json.loads turns 1e999 into inf without calling parse_constant
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(b'{"values": {"a": 1e999}}')

    assert _reason(excinfo) == "schema"


def test_oversized_payload_is_refused_before_parsing() -> None:
    payload = _json({"values": {"a": 1}})

    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(payload + b"not even json", max_bytes=len(payload))

    assert _reason(excinfo) == "oversized"


def test_payload_exactly_at_the_limit_is_accepted() -> None:
    payload = _json({"values": {"a": 1}})

    assert len(parse_telemetry(payload, max_bytes=len(payload))) == 1


@pytest.mark.parametrize("payload", [b"", b"{", b"{'values': {}}", b"\xff\xfe", b"values=1"])
def test_invalid_json_is_refused(payload: bytes) -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(payload)

    assert _reason(excinfo) == "invalid_json"


def test_payload_error_message_carries_reason_and_detail() -> None:
    error = PayloadError("schema", "values: missing")

    assert str(error) == "schema: values: missing"
    assert isinstance(error, ValueError)


# --- events ----------------------------------------------------------------------------------

TS = "2024-03-01T08:00:00Z"


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        ({"type": "state", "state": "RUNNING"}, StateEvent),
        ({"type": "job_start", "order_id": "SO-1", "operation": 10}, JobStartEvent),
        ({"type": "job_end", "order_id": "SO-1", "operation": 10}, JobEndEvent),
        ({"type": "cycle", "counter": 7}, CycleEvent),
        ({"type": "alarm", "code": "E42"}, AlarmEvent),
    ],
)
def test_each_event_type_parses_to_its_model(data: dict[str, Any], cls: type) -> None:
    event = parse_event(_json({"ts": TS, "event_id": "m1-1", **data}))

    assert type(event) is cls
    assert event.type == data["type"]
    assert event.event_id == "m1-1"
    assert event.ts == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_state_event_carries_the_machine_state() -> None:
    event = parse_event(_json({"event_id": "e", "type": "state", "state": "DOWN"}))

    assert isinstance(event, StateEvent)
    assert event.state is MachineState.DOWN


def test_full_cycle_event_keeps_its_optional_fields() -> None:
    event = parse_event(
        _json(
            {
                "event_id": "e",
                "type": "cycle",
                "counter": 12,
                "scrap_counter": 1,
                "cycle_time_s": 2.5,
                "order_id": "SO-1",
                "operation": 20,
            }
        )
    )

    assert isinstance(event, CycleEvent)
    assert (event.counter, event.scrap_counter, event.cycle_time_s) == (12, 1, 2.5)
    assert (event.order_id, event.operation) == ("SO-1", 20)


def test_alarm_message_defaults_to_empty() -> None:
    event = parse_event(_json({"event_id": "e", "type": "alarm", "code": "E1"}))

    assert isinstance(event, AlarmEvent)
    assert event.message == ""


def test_event_without_type_is_a_discriminator_error() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(_json({"event_id": "e", "state": "RUNNING"}))

    assert _reason(excinfo) == "schema"
    assert "type" in excinfo.value.detail


def test_event_of_unknown_type_names_the_bad_tag() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(_json({"event_id": "e", "type": "reboot"}))

    assert _reason(excinfo) == "schema"
    assert "reboot" in excinfo.value.detail


def test_schema_error_locates_the_field_within_the_event_type() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(_json({"event_id": "e", "type": "cycle"}))

    assert excinfo.value.detail.startswith("cycle.counter")


@pytest.mark.parametrize(
    "data",
    [
        {"type": "state", "state": "RUNNING"},  # no event_id
        {"event_id": "", "type": "state", "state": "RUNNING"},
        {"event_id": "x" * (MAX_NAME_LENGTH + 1), "type": "state", "state": "RUNNING"},
        {"event_id": "e", "type": "state", "state": "running"},  # states are upper case
        {"event_id": "e", "type": "state", "state": "EXPLODED"},
        {"event_id": "e", "type": "job_start", "order_id": "SO-1"},
        {"event_id": "e", "type": "job_start", "order_id": "", "operation": 10},
        {"event_id": "e", "type": "job_start", "order_id": "x" * 65, "operation": 10},
        {"event_id": "e", "type": "job_end", "order_id": "SO-1", "operation": -1},
        {"event_id": "e", "type": "cycle", "counter": -1},
        {"event_id": "e", "type": "cycle", "counter": 1.5},
        {"event_id": "e", "type": "cycle", "counter": 1, "scrap_counter": -1},
        {"event_id": "e", "type": "cycle", "counter": 1, "cycle_time_s": 0},
        {"event_id": "e", "type": "alarm"},
        {"event_id": "e", "type": "alarm", "code": "E1", "message": "m" * 1025},
        {"event_id": "e", "type": "state", "state": "IDLE", "ts": "2024-03-01T08:00:00"},
    ],
)
def test_malformed_event_is_a_schema_error(data: dict[str, Any]) -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(_json(data))

    assert _reason(excinfo) == "schema"


@pytest.mark.parametrize("payload", [b"[]", b'[{"type": "state"}]', b'"state"', b"1", b"null"])
def test_event_that_is_not_a_json_object_is_refused(payload: bytes) -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(payload)

    assert _reason(excinfo) == "schema"
    assert "object" in excinfo.value.detail


def test_event_with_nan_cycle_time_is_refused() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(b'{"event_id":"e","type":"cycle","counter":1,"cycle_time_s":NaN}')

    assert _reason(excinfo) == "not_finite"


def test_oversized_event_is_refused() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(_json({"event_id": "e", "type": "alarm", "code": "E1"}), max_bytes=10)

    assert _reason(excinfo) == "oversized"


def test_event_default_size_limit_is_smaller_than_telemetry() -> None:
    big = _json({"event_id": "e", "type": "alarm", "code": "E1", "pad": "x" * 70_000})

    with pytest.raises(PayloadError) as excinfo:
        parse_event(big)

    assert _reason(excinfo) == "oversized"


@pytest.mark.parametrize(
    "data",
    [
        {"event_id": "e", "type": "cycle", "counter": True},
        {"event_id": "e", "type": "job_start", "order_id": "SO-1", "operation": True},
    ],
)
def test_boolean_is_not_accepted_as_an_event_number(data: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        parse_event(_json(data))


# --- encoding --------------------------------------------------------------------------------


def test_encoded_event_parses_back_to_an_equal_event() -> None:
    event = CycleEvent(
        ts=datetime(2024, 3, 1, 8, 0, 0, 123_000, tzinfo=UTC),
        event_id="m1-3",
        type="cycle",
        counter=3,
        cycle_time_s=2.0,
        order_id="SO-1",
        operation=10,
    )

    assert parse_event(encode(event)) == event


def test_encoding_leaves_out_unset_optional_fields() -> None:
    event = CycleEvent(event_id="e", type="cycle", counter=1)

    assert json.loads(encode(event)) == {"event_id": "e", "type": "cycle", "counter": 1}


def test_encoded_reading_parses_back_with_the_same_instant() -> None:
    reading = TelemetryReading(
        ts=datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=2))), values={"a": 1.5}
    )

    (back,) = parse_telemetry(encode(reading))

    assert back == reading
    assert back.ts == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_order_alert_round_trips_through_json() -> None:
    alert = OrderAlert(
        alert_id=1,
        version=2,
        event="escalated",
        order_id="SO-1",
        kind="late",
        state="active",
        severity="critical",
        schedule_status="late",
        reasons=["projected to finish a day after its due date"],
        eta=datetime(2024, 3, 2, tzinfo=UTC),
        due=datetime(2024, 3, 1, tzinfo=UTC),
        raised_at=datetime(2024, 3, 1, 8, tzinfo=UTC),
        updated_at=datetime(2024, 3, 1, 9, tzinfo=UTC),
        message="late by a day",
    )

    assert OrderAlert.model_validate_json(encode(alert)) == alert


def test_counter_sent_as_an_integral_float_is_accepted_and_a_fraction_is_not() -> None:
    event = parse_event(b'{"event_id": "e", "type": "cycle", "counter": 42.0}')
    assert isinstance(event, CycleEvent) and event.counter == 42
    with pytest.raises(PayloadError) as excinfo:
        parse_event(b'{"event_id": "e", "type": "cycle", "counter": 42.5}')
    assert excinfo.value.reason == "schema"


def test_counter_sent_as_text_is_refused() -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_event(b'{"event_id": "e", "type": "cycle", "counter": "42"}')
    assert "whole number" in excinfo.value.detail


@pytest.mark.parametrize("field", ["counter", "scrap_counter", "operation"])
def test_counters_and_step_numbers_beyond_63_bits_are_refused(field: str) -> None:
    body = {"event_id": "e", "type": "cycle", "counter": 1, field: 2**63 - 1}
    assert getattr(parse_event(json.dumps(body).encode()), field) == 2**63 - 1
    body[field] = 2**63
    with pytest.raises(PayloadError) as excinfo:
        parse_event(json.dumps(body).encode())
    assert excinfo.value.reason == "schema"


@pytest.mark.parametrize(
    "payload",
    [
        b'{"values": {"temp": 20.5, "temp": 999}}',
        b'{"ts": 1, "ts": 2, "values": {"a": 1}}',
    ],
)
def test_a_reading_that_names_a_key_twice_is_refused(payload: bytes) -> None:
    with pytest.raises(PayloadError) as excinfo:
        parse_telemetry(payload)

    assert _reason(excinfo) == "invalid_json"
    assert "duplicate key" in str(excinfo.value)


def test_an_event_that_names_its_counter_twice_is_refused() -> None:
    payload = b'{"event_id": "e1", "type": "cycle", "counter": 5, "counter": 500}'

    with pytest.raises(PayloadError, match="duplicate key 'counter'") as excinfo:
        parse_event(payload)

    assert _reason(excinfo) == "invalid_json"

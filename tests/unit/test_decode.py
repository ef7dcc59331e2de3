"""Payload decoding: JSON readings, arrays, nested values, one-value payloads, and rejections."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.decode import Decoder, scalar_value
from shopfloor.contract.payloads import PayloadError

NOW = 1_772_438_400_000_000_000  # 2026-03-02T08:00:00Z
TS_MS = 1_772_438_399_000  # one second earlier
TS = TS_MS * 10**6
DECODER = Decoder(max_ahead_s=300)
TYPED = Decoder(field_types={"count": "int", "StateCurrent": "string", "running": "bool"})


def readings(data: Any, decoder: Decoder = DECODER) -> list[tuple[str, int]]:
    return decoder.readings(json.dumps(data).encode(), NOW)


def reason(call: Any, *args: Any) -> str:
    with pytest.raises(PayloadError) as excinfo:
        call(*args)
    return excinfo.value.reason


# --- JSON readings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "decoded"),
    [
        ({"ts": TS_MS, "values": {"t": 41.5, "n": 7}}, [("t=41.5,n=7.0", TS)]),
        ({"values": {"t": 1.5}}, [("t=1.5", NOW)]),
        ({"ts": None, "values": {"t": 1.5}}, [("t=1.5", NOW)]),
        (
            [{"ts": TS_MS, "values": {"t": 1.0}}, {"ts": TS_MS + 1, "values": {"t": 2.0}}],
            [("t=1.0", TS), ("t=2.0", TS + 10**6)],
        ),
        ({"ts": "2026-03-02T07:59:59Z", "values": {"t": 1}}, [("t=1.0", TS)]),
        ({"values": {"on": True, "off": False}}, [("on=1.0,off=0.0", NOW)]),
        ({"values": {"t": "41.5"}}, [("t=41.5", NOW)]),
        ({"values": {"t": 1, "gone": None}}, [("t=1.0", NOW)]),
        ({"values": {"gone": None}}, []),  # nothing measured: no point, not an error
        ({"values": {"t": 1}, "unit": "C", "extra": [1, 2]}, [("t=1.0", NOW)]),
        ({"values": {"spindle temp": 1, "a,b": 2}}, [(r"spindle\ temp=1.0,a\,b=2.0", NOW)]),
    ],
)
def test_json_readings_become_float_fields_at_their_time(
    data: Any, decoded: list[tuple[str, int]]
) -> None:
    assert readings(data) == decoded


def test_nested_values_are_flattened_with_the_separator() -> None:
    data = {"values": {"spindle": {"temp": 41.5, "load": {"pct": 55}}, "power": 7}}

    assert readings(data) == [("spindle_temp=41.5,spindle_load_pct=55.0,power=7.0", NOW)]
    assert readings(data, Decoder(separator=".")) == [
        ("spindle.temp=41.5,spindle.load.pct=55.0,power=7.0", NOW)
    ]


def test_declared_field_types_apply_to_flattened_names() -> None:
    decoder = Decoder(field_types={"axis_count": "int"})

    assert readings({"values": {"axis": {"count": 3}}}, decoder) == [("axis_count=3i", NOW)]


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"count": 12, "t": 1}, "count=12i,t=1.0"),
        ({"count": 12.0}, "count=12i"),
        ({"StateCurrent": "RUNNING"}, 'StateCurrent="RUNNING"'),
        ({"StateCurrent": 6}, 'StateCurrent="6"'),
        ({"running": 1}, "running=true"),
    ],
)
def test_declared_field_types_are_written_as_declared(values: Any, fields: str) -> None:
    assert readings({"values": values}, TYPED) == [(fields, NOW)]


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"{not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"\xff\xfe\x00", "invalid_json"),
        (b"[" * 100_000, "invalid_json"),  # deeper than the parser's stack
        (b'{"values": {"t": "\\ud800"}}', "type"),  # float field: text is not a number
        (b'{"values": {"t\\ud800": 1}}', "invalid_json"),  # lone surrogate in a name
        (b'{"values": {"t": 1, "t": 2}}', "invalid_json"),  # which t? parsers differ
        (b'{"values": {"t": NaN}}', "not_finite"),
        (b'{"values": {"t": -Infinity}}', "not_finite"),
        (b'{"values": {"t": 1e999}}', "not_finite"),
        (b"[]", "schema"),
        (b"42", "schema"),
        (b'"RUNNING"', "schema"),
        (b"[42]", "schema"),
        (b"[[]]", "schema"),
        (b"{}", "schema"),
        (b'{"values": {}}', "schema"),
        (b'{"values": [1, 2]}', "schema"),
        (b'{"values": 42}', "schema"),
        (b'{"values": {"axes": [1, 2]}}', "schema"),
        (b'{"values": {"time": 1}}', "schema"),
        (b'{"values": {"": 1}}', "schema"),
        (b'{"values": {"a\\\\": 1}}', "schema"),
        (b'{"values": {"a_b": 1, "a": {"b": 2}}}', "schema"),  # same name once flattened
        (b'{"values": {"t": "hot"}}', "type"),
        (
            b'{"values": {"t": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}}',
            "schema",
        ),
        (b'{"ts": "yesterday", "values": {"t": 1}}', "bad_timestamp"),
        (b'{"ts": true, "values": {"t": 1}}', "bad_timestamp"),
        (b'{"ts": 4102444800000, "values": {"t": 1}}', "ts_out_of_range"),  # 2100
        (b'{"ts": -1, "values": {"t": 1}}', "ts_out_of_range"),
    ],
)
def test_bad_readings_are_rejected_with_a_stable_reason(payload: bytes, why: str) -> None:
    assert reason(DECODER.readings, payload, NOW) == why


def test_one_bad_reading_rejects_the_whole_message() -> None:
    # all or nothing: a half-stored message would be stored again in full on redelivery anyway
    data = [{"values": {"t": 1}}, {"values": {"t": "hot"}}]

    assert reason(DECODER.readings, json.dumps(data).encode(), NOW) == "type"


def test_a_value_is_rejected_rather_than_written_with_another_type() -> None:
    assert reason(TYPED.readings, b'{"values": {"count": 1.5}}', NOW) == "type"
    assert reason(TYPED.readings, b'{"values": {"running": "maybe"}}', NOW) == "type"


def test_window_is_checked_against_the_arrival_time_passed_in() -> None:
    decoder = Decoder(max_ahead_s=60, max_behind_s=3600)
    payload = json.dumps({"ts": TS_MS - 7200_000, "values": {"t": 1}}).encode()

    assert reason(decoder.readings, payload, NOW) == "ts_out_of_range"
    assert decoder.readings(payload, NOW - 7200 * 10**9) == [("t=1.0", TS - 7200 * 10**9)]


@pytest.mark.parametrize(
    "values",
    [
        {"a": 1, "b": True, "c": 2.5, "d": -0.0, "e": 2**60},
        {"a": 1e308, "b": 1e308},  # each finite, though their sum is not
        {"a": 1.5, "b": None},
        {"a": 1.5, "b": {"c": 2}},
    ],
)
def test_known_float_fields_take_the_fast_path_to_the_same_fields(values: Any) -> None:
    decoder = Decoder()
    payload = json.dumps({"values": values}).encode()

    first = decoder.readings(payload, NOW)  # learns the names on the careful path

    assert decoder.readings(payload, NOW) == first


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b'{"values": {"a": 1e999, "b": 1}}', "not_finite"),
        (b'{"values": {"a": "1", "b": "x"}}', "type"),
        (b'{"values": {"a": [1], "b": 1}}', "schema"),
        (b'{"values": {"a": 1, "b": 1e400}}', "not_finite"),
    ],
)
def test_known_float_fields_still_reject_bad_values(payload: bytes, why: str) -> None:
    decoder = Decoder()
    decoder.readings(b'{"values": {"a": 1.0, "b": 2.0}}', NOW)

    assert reason(decoder.readings, payload, NOW) == why


# --- one value per topic ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "value"),
    [
        (b"42.1", 42.1),
        (b" 42 ", 42),
        (b"-3e2", -300.0),
        (b"true", True),
        (b"False", False),
        (b"RUNNING", "RUNNING"),
        (b'"RUNNING"', "RUNNING"),
        (b'"42"', "42"),
        (b"Execute Ready", "Execute Ready"),
        (b"null", None),
        (b'{"value": 1, "ts": 5}', {"value": 1, "ts": 5}),
        ("Störung".encode(), "Störung"),
    ],
)
def test_one_value_payloads_are_read_as_json_or_as_plain_text(payload: bytes, value: Any) -> None:
    assert scalar_value(payload) == value


@pytest.mark.parametrize(
    ("decoder", "field", "payload", "decoded"),
    [
        (DECODER, "speed", b"42.1", [("speed=42.1", NOW)]),
        (DECODER, "speed", b"42", [("speed=42.0", NOW)]),
        (DECODER, "Status/Running", b"true", [("Status/Running=1.0", NOW)]),
        (DECODER, "speed", b'"42.5"', [("speed=42.5", NOW)]),
        (DECODER, "speed", b"null", []),
        (TYPED, "StateCurrent", b"RUNNING", [('StateCurrent="RUNNING"', NOW)]),
        (TYPED, "StateCurrent", b'"RUNNING"', [('StateCurrent="RUNNING"', NOW)]),
        (TYPED, "StateCurrent", b"6", [('StateCurrent="6"', NOW)]),
        (TYPED, "count", b"17", [("count=17i", NOW)]),
        (TYPED, "running", b"TRUE", [("running=true", NOW)]),
        (DECODER, "speed", f'{{"value": 3, "ts": {TS_MS}}}'.encode(), [("speed=3.0", TS)]),
        (
            DECODER,
            "speed",
            f'[{{"value": 3, "ts": {TS_MS}}}, {{"value": 4}}]'.encode(),
            [("speed=3.0", TS), ("speed=4.0", NOW + 1)],  # its place in the list
        ),
    ],
)
def test_one_value_payload_becomes_the_field_the_topic_names(
    decoder: Decoder, field: str, payload: bytes, decoded: list[tuple[str, int]]
) -> None:
    assert decoder.scalar(field, payload, NOW) == decoded


@pytest.mark.parametrize(
    ("field", "payload", "why"),
    [
        ("StateCurrent", b"RUNNING", "type"),  # undeclared: a float field, text is refused
        ("speed", b"NaN", "not_finite"),
        ("speed", b"-inf", "not_finite"),
        ("speed", b"1e999", "not_finite"),
        ("speed", b"", "schema"),
        ("speed", b"   ", "schema"),
        ("speed", b"\xff", "invalid_json"),
        ("speed", b"{broken", "invalid_json"),
        ("speed", b"[1, 2]", "schema"),  # a list must hold {"value", "ts"} objects
        ("speed", b"[]", "schema"),
        ("speed", b'{"v": 1}', "schema"),
        ("speed", b'{"value": {"a": 1}}', "schema"),
        ("speed", b'{"value": 1, "ts": "soon"}', "bad_timestamp"),
        ("speed", b'{"value": 1, "ts": 4102444800000}', "ts_out_of_range"),
        ("time", b"1", "schema"),
    ],
)
def test_bad_one_value_payloads_are_rejected_with_a_stable_reason(
    field: str, payload: bytes, why: str
) -> None:
    assert reason(DECODER.scalar, field, payload, NOW) == why

"""Every scalar and array Sparkplug datatype maps to field types; null, historical, bad values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.sparkplug.host import SparkplugHost
from gateway.sparkplug.settings import SparkplugSettings
from gateway.timestamps import Clock
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from shopfloor.sparkplug import names
from shopfloor.sparkplug.edge import EdgeNodeSession
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.values import (
    ArrayType,
    DataType,
    Scalar,
    read_array,
    read_value,
    write_array,
    write_value,
)

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
MS = int(NOW.timestamp() * 1000)


def _host() -> SparkplugHost:
    return SparkplugHost(SparkplugSettings(enabled=True), TopicTemplate(DEFAULT_TEMPLATE))


@pytest.mark.parametrize(
    ("datatype", "value", "field"),
    [
        (DataType.INT8, -5, "v=-5.0"),
        (DataType.INT16, -300, "v=-300.0"),
        (DataType.INT32, -70000, "v=-70000.0"),
        (DataType.INT64, -(2**40), f"v={float(-(2**40))!r}"),
        (DataType.UINT8, 200, "v=200.0"),
        (DataType.UINT16, 60000, "v=60000.0"),
        (DataType.UINT32, 4_000_000_000, "v=4000000000.0"),
        (DataType.UINT64, 2**40, f"v={float(2**40)!r}"),
        (DataType.FLOAT, 1.5, "v=1.5"),
        (DataType.DOUBLE, 2.25, "v=2.25"),
        (DataType.BOOLEAN, True, "v=1.0"),
        (DataType.DATETIME, MS, f"v={float(MS)!r}"),
        (DataType.STRING, 'a"b', 'v="a\\"b"'),
        (DataType.TEXT, "t", 'v="t"'),
        (DataType.UUID, "u-1", 'v="u-1"'),
    ],
)
def test_numbers_and_booleans_are_floats_and_text_is_a_string(
    datatype: DataType, value: int | float | bool | str, field: str
) -> None:
    node = EdgeNodeSession("g", "n")
    node.define(None, "v", datatype, value)
    (line,) = _host().receive(*node.node_birth(MS), NOW).handled[0].lines
    assert line.split(" ")[1] == field


def test_negative_ints_read_the_same_in_either_twos_complement_width() -> None:
    metric = Payload.Metric(int_value=0xFF)  # Int8 -1 as 8 bits
    assert read_value(metric, DataType.INT8) == -1
    metric = Payload.Metric(int_value=0xFFFFFFFF)  # ... and as 32 bits
    assert read_value(metric, DataType.INT8) == -1
    out = Payload.Metric()
    write_value(out, DataType.INT64, -2)
    assert read_value(out, DataType.INT64) == -2


def test_declared_field_types_override_the_datatype() -> None:
    node = EdgeNodeSession("g", "n")
    node.define(None, "count", DataType.INT32, 7)
    host = SparkplugHost(
        SparkplugSettings(enabled=True),
        TopicTemplate(DEFAULT_TEMPLATE),
        field_types={"count": "int"},
    )
    (line,) = host.receive(*node.node_birth(MS), NOW).handled[0].lines
    assert line.split(" ")[1] == "count=7i"


def test_null_is_skipped_and_a_value_in_the_wrong_field_is_a_note() -> None:
    node = EdgeNodeSession("g", "n")
    node.define(None, "a", DataType.DOUBLE, None)
    node.define(None, "b", DataType.DOUBLE, 1.0)
    handled = _host().receive(*node.node_birth(MS), NOW).handled[0]
    assert handled.lines[0].split(" ")[1] == "b=1.0"
    payload = Payload(timestamp=MS, seq=0)
    payload.metrics.add(name="x", datatype=DataType.INT32, string_value="nope")
    payload.metrics.add(name="y", datatype=DataType.DOUBLE, double_value=2.0)
    handled = _host().receive("spBv1.0/g/NBIRTH/n", payload.SerializeToString(), NOW).handled[0]
    assert [n.reason for n in handled.notes] == ["sparkplug_type"]
    assert handled.lines[0].split(" ")[1] == "y=2.0"


def test_historical_values_are_stored_at_their_time_but_make_no_events() -> None:
    host, node = _host(), EdgeNodeSession("g", "n")
    node.define(None, names.COUNTER_METRIC, DataType.UINT64, 0)
    host.receive(*node.node_birth(MS), NOW)
    payload = Payload(timestamp=MS, seq=1)
    old_ms = MS - 60_000
    payload.metrics.add(alias=1, timestamp=old_ms, is_historical=True, datatype=8, long_value=3)
    handled = host.receive("spBv1.0/g/NDATA/n", payload.SerializeToString(), NOW).handled[0]
    assert handled.lines[0].endswith(f" {old_ms * 1_000_000}") and handled.events == []


def test_a_timestamp_far_ahead_of_arrival_is_a_note_not_a_point() -> None:
    clock = Clock("ms", max_ahead_s=300)
    host = SparkplugHost(SparkplugSettings(enabled=True), TopicTemplate(DEFAULT_TEMPLATE), clock)
    node = EdgeNodeSession("g", "n")
    node.define(None, "v", DataType.DOUBLE, 1.0)
    future = int((NOW + timedelta(hours=2)).timestamp() * 1000)
    handled = host.receive(*node.node_birth(future), NOW).handled[0]
    assert handled.lines == [] and [n.reason for n in handled.notes] == ["ts_out_of_range"]


def _array_birth(name: str, datatype: ArrayType, values: list[Scalar]) -> bytes:
    payload = Payload(timestamp=MS, seq=0)
    write_array(payload.metrics.add(name=name), datatype, values)
    payload.metrics.add(name="ok", datatype=DataType.DOUBLE, double_value=1.0)
    return payload.SerializeToString()


def _fields(line: str) -> str:
    return line.split(" ")[1]


@pytest.mark.parametrize(
    ("datatype", "values", "fields"),
    [
        (ArrayType.INT8_ARRAY, [-128, 0, 127], "a_0=-128.0,a_1=0.0,a_2=127.0"),
        (ArrayType.INT16_ARRAY, [-300, 32767], "a_0=-300.0,a_1=32767.0"),
        (ArrayType.INT32_ARRAY, [-70000, 2**31 - 1], f"a_0=-70000.0,a_1={float(2**31 - 1)!r}"),
        (ArrayType.INT64_ARRAY, [-(2**40)], f"a_0={float(-(2**40))!r}"),
        (ArrayType.UINT8_ARRAY, [0, 255], "a_0=0.0,a_1=255.0"),
        (ArrayType.UINT16_ARRAY, [65535], "a_0=65535.0"),
        (ArrayType.UINT32_ARRAY, [4_000_000_000], "a_0=4000000000.0"),
        (ArrayType.UINT64_ARRAY, [2**40, 1], f"a_0={float(2**40)!r},a_1=1.0"),
        (ArrayType.FLOAT_ARRAY, [1.5, -0.25], "a_0=1.5,a_1=-0.25"),
        (ArrayType.DOUBLE_ARRAY, [2.25], "a_0=2.25"),
        (ArrayType.BOOLEAN_ARRAY, [True, False, True], "a_0=1.0,a_1=0.0,a_2=1.0"),
        (ArrayType.STRING_ARRAY, ["x", "", 'q"é'], 'a_0="x",a_1="",a_2="q\\"é"'),
        (ArrayType.DATETIME_ARRAY, [MS], f"a_0={float(MS)!r}"),
    ],
)
def test_each_array_element_is_its_own_field_typed_like_the_scalar_type(
    datatype: ArrayType, values: list[Scalar], fields: str
) -> None:
    metric = Payload.Metric()
    write_array(metric, datatype, values)
    assert read_array(metric, datatype) == values
    handled = _host().receive("spBv1.0/g/NBIRTH/n", _array_birth("a", datatype, values), NOW)
    (line,) = handled.handled[0].lines
    assert _fields(line) == fields + ",ok=1.0"


def test_boolean_arrays_are_a_count_then_bits_most_significant_first() -> None:
    bits = [False, False, True, True, False, True, False, False, True, True, False, True]
    metric = Payload.Metric()
    write_array(metric, ArrayType.BOOLEAN_ARRAY, bits)
    assert metric.bytes_value == bytes([0x0C, 0, 0, 0, 0x34, 0xD0])  # the specification's example
    metric.bytes_value = bytes([0x0C, 0, 0, 0, 0x34, 0xDF])  # the padding bits are ignored
    assert read_array(metric, ArrayType.BOOLEAN_ARRAY) == bits


def test_array_elements_follow_the_separator_field_types_and_folders() -> None:
    host = SparkplugHost(
        SparkplugSettings(enabled=True),
        TopicTemplate(DEFAULT_TEMPLATE),
        field_types={"Axis.Pos.1": "int"},
        separator=".",
    )
    raw = _array_birth("Axis/Pos", ArrayType.INT32_ARRAY, [4, 5])
    (line,) = host.receive("spBv1.0/g/NBIRTH/n", raw, NOW).handled[0].lines
    assert _fields(line) == "Axis.Pos.0=4.0,Axis.Pos.1=5i,ok=1.0"


@pytest.mark.parametrize(
    ("datatype", "raw"),
    [
        (ArrayType.INT16_ARRAY, b"\x01\x02\x03"),
        (ArrayType.INT32_ARRAY, b"\x01\x02"),
        (ArrayType.INT64_ARRAY, bytes(12)),
        (ArrayType.UINT16_ARRAY, b"\x01"),
        (ArrayType.UINT32_ARRAY, bytes(5)),
        (ArrayType.UINT64_ARRAY, bytes(7)),
        (ArrayType.FLOAT_ARRAY, bytes(6)),
        (ArrayType.DOUBLE_ARRAY, bytes(9)),
        (ArrayType.DATETIME_ARRAY, bytes(4)),
        (ArrayType.BOOLEAN_ARRAY, b"\x03\x00"),  # no room for the count
        (ArrayType.BOOLEAN_ARRAY, bytes([9, 0, 0, 0, 0xFF])),  # 9 bits need 2 bytes
        (ArrayType.BOOLEAN_ARRAY, bytes([1, 0, 0, 0, 0x80, 0])),  # a byte too many
        (ArrayType.BOOLEAN_ARRAY, bytes([0xFF, 0xFF, 0xFF, 0xFF])),  # 2**32-1 bits, no bytes
        (ArrayType.STRING_ARRAY, b"abc"),  # no NUL terminator
        (ArrayType.STRING_ARRAY, b"\xff\x00"),  # not UTF-8
        (ArrayType.UINT8_ARRAY, bytes(2000)),  # more elements than the limit
    ],
)
def test_a_malformed_array_is_dead_lettered_and_the_rest_is_stored(
    datatype: ArrayType, raw: bytes
) -> None:
    payload = Payload(timestamp=MS, seq=0)
    payload.metrics.add(name="a", datatype=datatype, bytes_value=raw)
    payload.metrics.add(name="ok", datatype=DataType.DOUBLE, double_value=1.0)
    handled = _host().receive("spBv1.0/g/NBIRTH/n", payload.SerializeToString(), NOW).handled[0]
    assert [n.reason for n in handled.notes] == ["sparkplug_array"]
    assert [_fields(line) for line in handled.lines] == ["ok=1.0"]


def test_an_array_in_a_scalar_field_is_dead_lettered_and_a_null_array_writes_nothing() -> None:
    payload = Payload(timestamp=MS, seq=0)
    payload.metrics.add(name="a", datatype=ArrayType.INT8_ARRAY, int_value=3)
    payload.metrics.add(name="b", datatype=ArrayType.DOUBLE_ARRAY, is_null=True)
    payload.metrics.add(name="ok", datatype=DataType.DOUBLE, double_value=1.0)
    handled = _host().receive("spBv1.0/g/NBIRTH/n", payload.SerializeToString(), NOW).handled[0]
    assert [n.reason for n in handled.notes] == ["sparkplug_array"]
    assert [_fields(line) for line in handled.lines] == ["ok=1.0"]


def test_non_finite_float_elements_are_dead_lettered_one_by_one() -> None:
    raw = _array_birth("a", ArrayType.DOUBLE_ARRAY, [1.0, float("nan"), 3.0])
    handled = _host().receive("spBv1.0/g/NBIRTH/n", raw, NOW).handled[0]
    assert [n.reason for n in handled.notes] == ["not_finite"]
    assert [_fields(line) for line in handled.lines] == ["a_0=1.0,a_2=3.0,ok=1.0"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(ArrayType)), st.binary(max_size=64), st.booleans())
def test_any_bytes_in_an_array_metric_never_crash(
    datatype: ArrayType, raw: bytes, by_alias: bool
) -> None:
    host = _host()
    birth = Payload(timestamp=MS, seq=0)
    birth.metrics.add(name="a", alias=1, datatype=datatype, bytes_value=raw)
    (handled,) = host.receive("spBv1.0/g/NBIRTH/n", birth.SerializeToString(), NOW).handled
    data = Payload(timestamp=MS, seq=1)
    data.metrics.add(alias=1, bytes_value=raw) if by_alias else data.metrics.add(name="a")
    (after,) = host.receive("spBv1.0/g/NDATA/n", data.SerializeToString(), NOW).handled
    for result in (handled, after):
        assert result.error is None
        assert all(n.reason.startswith(("sparkplug_array", "not_finite")) for n in result.notes)
        assert all(" " in line for line in result.lines)


_TOPICS = st.sampled_from(
    [
        "spBv1.0/g/NBIRTH/n",
        "spBv1.0/g/NDATA/n",
        "spBv1.0/g/DBIRTH/n/d",
        "spBv1.0/g/DDATA/n/d",
        "spBv1.0/g/NDEATH/n",
        "spBv1.0/g/DDEATH/n/d",
        "spBv1.0/g/NCMD/n",
        "spBv1.0/g/NDATA",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_TOPICS, st.binary(max_size=300)), min_size=1, max_size=8))
def test_any_bytes_never_crash_the_host_and_every_message_comes_back_once(
    messages: list[tuple[str, bytes]],
) -> None:
    host = _host()
    seen: list[object] = []
    for i, (topic, raw) in enumerate(messages):
        seen += [h.tag for h in host.receive(topic, raw, NOW, tag=i).handled]
    seen += [h.tag for h in host.tick(NOW + timedelta(minutes=1)).handled]
    assert sorted(seen) == list(range(len(messages)))  # type: ignore[type-var]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            Payload.Metric,
            name=st.text(max_size=20),
            alias=st.integers(0, 5),
            datatype=st.integers(0, 40),
            int_value=st.integers(0, 2**32 - 1),
            is_null=st.booleans(),
            is_historical=st.booleans(),
        ),
        max_size=6,
    ),
    st.integers(0, 300),
)
def test_well_formed_payloads_with_odd_metrics_never_crash(
    metrics: list[Payload.Metric], seq: int
) -> None:
    host = _host()
    for kind in ("NBIRTH", "NDATA", "NDEATH"):
        payload = Payload(timestamp=MS, seq=seq, metrics=metrics)
        (handled,) = host.receive(f"spBv1.0/g/{kind}/n", payload.SerializeToString(), NOW).handled
        assert handled.error is not None or all(" " in line for line in handled.lines)

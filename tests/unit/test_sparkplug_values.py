"""Every scalar Sparkplug datatype maps to one field type; null, historical and bad values."""

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
from shopfloor.sparkplug.values import DataType, read_value, write_value

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

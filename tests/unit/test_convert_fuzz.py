"""Fuzz: any topic and any payload give well-formed lines or a PayloadError, never anything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.convert import Converter
from gateway.decode import Decoder
from gateway.fields import FieldType
from shopfloor.contract.payloads import PayloadError
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate
from tests.corpus import REASONS
from tests.lineproto import parse_line

ARRIVAL = datetime(2026, 3, 2, 8, tzinfo=UTC)
TYPES: dict[str, FieldType] = {"n": "int", "s": "string", "b": "bool", "a_n": "int"}
CONVERTER = Converter(
    [TopicTemplate(DEFAULT_TEMPLATE), TopicTemplate("plc/{site}/{line}/{field*}")],
    2048,
    Decoder(max_ahead_s=300, max_behind_s=365 * 86_400, field_types=TYPES),
)
_PYTHON_TYPE = {"float": float, "int": int, "bool": bool, "string": str}
FUZZ = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# every code point, lone surrogates included (a JSON `\\ud800` escape decodes to one)
chars = st.characters(exclude_categories=())
levels = st.text(chars, min_size=0, max_size=8)
topics = st.one_of(
    st.text(chars, max_size=60),
    st.builds(
        lambda site, machine, kind: f"shopfloor/{site}/l1/{machine}/{kind}",
        levels,
        levels,
        st.sampled_from(["telemetry", "event", "status"]),
    ),
    st.builds(lambda parts: "plc/p1/l1/" + "/".join(parts), st.lists(levels, max_size=4)),
)
names = st.one_of(
    st.sampled_from(["t", "n", "s", "b", "a", "time", ""]), st.text(chars, max_size=12)
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(chars, max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(names, children, max_size=4)
    ),
    max_leaves=12,
)
timestamps = st.one_of(
    st.none(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(),
    st.sampled_from(["2026-03-02T07:59:00Z", "2026-03-02T08:00:00.123456789+01:00", "soon"]),
    st.booleans(),
)
readings = st.fixed_dictionaries(
    {"values": st.one_of(st.dictionaries(names, json_values, max_size=5), json_values)},
    optional={"ts": timestamps},
)
structured = st.one_of(readings, st.lists(readings, max_size=4), json_values)


def check(topic: str, payload: bytes) -> None:
    """The converter's contract: well-formed lines with the declared types, or a PayloadError."""
    try:
        lines = CONVERTER.convert(topic, payload, ARRIVAL)
    except PayloadError as exc:
        assert exc.reason in REASONS, exc
        assert exc.detail
        return
    for line in lines:
        parsed = parse_line(line)
        assert parsed.measurement in ("telemetry", "events")
        if parsed.measurement == "telemetry":
            for name, value in parsed.fields.items():
                assert type(value) is _PYTHON_TYPE[TYPES.get(name, "float")], (name, line)


@FUZZ
@given(topics, st.binary(max_size=300))
def test_any_topic_and_any_bytes_give_lines_or_a_payload_error(topic: str, payload: bytes) -> None:
    check(topic, payload)


@FUZZ
@given(topics, st.text(chars, max_size=40))
def test_any_text_payload_on_any_topic_gives_lines_or_a_payload_error(
    topic: str, payload: str
) -> None:
    check(topic, payload.encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    st.sampled_from(["shopfloor/p1/l1/m1/telemetry", "plc/p1/l1/n", "plc/p1/l1/s", "plc/p/l/x/y"]),
    structured,
)
def test_structured_json_on_valid_topics_gives_lines_or_a_payload_error(
    topic: str, data: Any
) -> None:
    check(topic, json.dumps(data).encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "event_id": st.text(chars, max_size=8),
            "type": st.sampled_from(["state", "cycle", "alarm"]),
        },
        optional={
            "ts": timestamps,
            "state": st.text(chars, max_size=8),
            "counter": scalars,
            "code": st.text(chars, max_size=8),
            "message": st.text(chars, max_size=20),
        },
    )
)
def test_events_give_one_line_or_a_payload_error(event: dict[str, Any]) -> None:
    check("shopfloor/p1/l1/m1/event", json.dumps(event).encode("utf-8", "surrogatepass"))

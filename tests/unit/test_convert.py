"""The converter: topic routing over several templates, readings, one-value topics, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.convert import Converter
from gateway.decode import Decoder
from gateway.settings import DecodeSettings, GatewaySettings
from shopfloor.contract.payloads import PayloadError
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate, dead_letter_topic
from tests.corpus import MAX_PAYLOAD_BYTES, REASONS, BadMessage, decode_settings, load_corpus
from tests.lineproto import parse_line

TS = datetime(2024, 3, 1, 8, 0, 0, 123_456, tzinfo=UTC)
ARRIVAL = datetime(2024, 3, 1, 9, tzinfo=UTC)
ARRIVAL_NS = 1_709_283_600_000_000_000
PACKML = TopicTemplate("{site}/{area}/{line}/{field*}")


def rejection(converter: Converter, topic: str, payload: bytes) -> PayloadError:
    with pytest.raises(PayloadError) as excinfo:
        converter.convert(topic, payload, ARRIVAL)
    return excinfo.value


def test_integer_value_in_a_payload_becomes_a_float_field() -> None:
    converter = Converter(TopicTemplate(DEFAULT_TEMPLATE), 1024)

    (line,) = converter.convert("shopfloor/p/l/m/telemetry", b'{"values": {"count": 42}}', TS)

    assert " count=42.0 " in line


# --- converter -------------------------------------------------------------------------------

CONVERTER = Converter(TopicTemplate(DEFAULT_TEMPLATE), max_payload_bytes=4096)


def test_converter_turns_each_reading_of_an_array_into_a_point_without_a_kind_tag() -> None:
    payload = json.dumps([{"ts": 1_000, "values": {"a": 1}}, {"values": {"a": 2}}]).encode()

    lines = CONVERTER.convert("shopfloor/p1/l1/m1/telemetry", payload, ARRIVAL)

    assert lines == [
        "telemetry,line=l1,machine=m1,site=p1 a=1.0 1000000000",
        f"telemetry,line=l1,machine=m1,site=p1 a=2.0 {ARRIVAL_NS + 1}",  # its place in the array
    ]


def test_buffered_readings_without_a_time_are_each_a_point_of_their_own() -> None:
    payload = json.dumps([{"values": {"a": i}} for i in range(3)]).encode()
    lines = CONVERTER.convert("shopfloor/p1/l1/m1/telemetry", payload, ARRIVAL)
    assert [line.rsplit(" ", 1)[1] for line in lines] == [str(ARRIVAL_NS + i) for i in range(3)]


def test_an_event_without_a_time_delivered_again_is_the_same_point() -> None:
    converter = Converter(TopicTemplate(DEFAULT_TEMPLATE), 256 * 1024)
    payload = b'{"event_id": "e9", "type": "state", "state": "IDLE"}'
    first = converter.convert("shopfloor/p1/l1/m1/event", payload, ARRIVAL)
    later = ARRIVAL + timedelta(seconds=30)
    assert converter.convert("shopfloor/p1/l1/m1/event", payload, later) == first


def test_converter_turns_an_event_into_one_point() -> None:
    payload = b'{"event_id":"e1","type":"state","state":"DOWN","ts":"2024-03-01T08:00:00Z"}'

    lines = CONVERTER.convert("shopfloor/p1/l1/m1/event", payload, ARRIVAL)

    assert lines == [
        'events,line=l1,machine=m1,site=p1,type=state event_id="e1",state="DOWN" '
        "1709280000000000000"
    ]


def test_converter_refuses_a_topic_outside_the_template() -> None:
    with pytest.raises(PayloadError) as excinfo:
        CONVERTER.convert("other/p1/l1/m1/telemetry", b'{"values":{"a":1}}', ARRIVAL)

    assert excinfo.value.reason == "unknown_topic"


def test_converter_reports_the_payload_reason() -> None:
    with pytest.raises(PayloadError) as excinfo:
        CONVERTER.convert("shopfloor/p1/l1/m1/telemetry", b"{not json", ARRIVAL)

    assert excinfo.value.reason == "invalid_json"


def test_converter_applies_its_size_limit_to_both_kinds() -> None:
    small = Converter(TopicTemplate(DEFAULT_TEMPLATE), max_payload_bytes=64)
    payload = json.dumps({"event_id": "e", "type": "alarm", "code": "E1", "message": "x" * 64})

    for kind in ("telemetry", "event"):
        with pytest.raises(PayloadError) as excinfo:
            small.convert(f"shopfloor/p1/l1/m1/{kind}", payload.encode(), ARRIVAL)
        assert excinfo.value.reason == "oversized"


def test_converter_does_not_change_the_topic_tags_it_was_given() -> None:
    payload = b'{"values":{"a":1}}'

    first = CONVERTER.convert("shopfloor/p1/l1/m1/telemetry", payload, ARRIVAL)
    second = CONVERTER.convert("shopfloor/p1/l1/m1/telemetry", payload, ARRIVAL)

    assert first == second


def test_topic_level_with_a_backslash_is_rejected_rather_than_corrupting_tags() -> None:
    with pytest.raises(PayloadError) as excinfo:
        CONVERTER.convert(
            "shopfloor/p1/l1/cnc\\/telemetry",
            b'{"values": {"t": 1}}',
            datetime(2026, 1, 1, tzinfo=UTC),
        )
    assert excinfo.value.reason == "unknown_topic"


# --- several templates, one-value topics -----------------------------------------------------

MIXED = Converter(
    [TopicTemplate(DEFAULT_TEMPLATE), PACKML],
    4096,
    Decoder(field_types={"Status/StateCurrent": "string"}),
)


def test_templates_are_tried_in_order_and_the_first_match_wins() -> None:
    # this topic fits both; the first template reads it as machine telemetry
    (line,) = MIXED.convert("shopfloor/p1/l1/m1/telemetry", b'{"values": {"a": 1}}', ARRIVAL)

    assert line == f"telemetry,line=l1,machine=m1,site=p1 a=1.0 {ARRIVAL_NS}"


def test_packml_style_topic_names_the_field_of_its_one_value() -> None:
    lines = MIXED.convert("Plant1/Area2/Line3/Status/StateCurrent", b"RUNNING", ARRIVAL)

    assert lines == [
        f'telemetry,area=Area2,line=Line3,site=Plant1 Status/StateCurrent="RUNNING" {ARRIVAL_NS}'
    ]


def test_packml_style_number_is_a_float_field_by_default() -> None:
    (line,) = MIXED.convert("Plant1/Area2/Line3/Status/CurMachSpeed", b"120", ARRIVAL)

    assert parse_line(line).fields == {"Status/CurMachSpeed": 120.0}


def test_rest_of_the_topic_joined_with_another_separator_names_the_field() -> None:
    converter = Converter(TopicTemplate("{site}/{field*}", separator="."), 4096)

    (line,) = converter.convert("P/Status/CurMachSpeed", b"1.5", ARRIVAL)

    assert parse_line(line).fields == {"Status.CurMachSpeed": 1.5}


def test_skipped_level_is_not_a_tag() -> None:
    converter = Converter(TopicTemplate("shopfloor/{site}/+/{machine}/{kind}"), 4096)

    (line,) = converter.convert("shopfloor/p1/hall/m1/telemetry", b'{"values": {"a": 1}}', ARRIVAL)

    assert parse_line(line).tags == {"machine": "m1", "site": "p1"}


def test_topic_matching_no_template_names_every_template() -> None:
    error = rejection(MIXED, "a/b", b"1")

    assert error.reason == "unknown_topic"
    assert DEFAULT_TEMPLATE in error.detail and PACKML.pattern in error.detail


def test_dead_letters_are_ignored_even_when_a_template_covers_them() -> None:
    converter = Converter(TopicTemplate("{site}/{area}/{field*}"), 4096)

    assert converter.convert(dead_letter_topic("gateway") + "/x", b"{}", ARRIVAL) == []
    assert converter.convert(dead_letter_topic("gateway"), b"{", ARRIVAL) == []


def test_topic_that_is_not_valid_unicode_is_an_unknown_topic() -> None:
    assert rejection(MIXED, "shopfloor/p1/l1/m\udc80/telemetry", b"{}").reason == "unknown_topic"


def test_repeated_topics_give_the_same_lines_from_the_route_cache() -> None:
    payload = b'{"values": {"a": 1}}'

    first = MIXED.convert("shopfloor/p1/l1/m1/telemetry", payload, ARRIVAL)

    assert MIXED.convert("shopfloor/p1/l1/m1/telemetry", payload, ARRIVAL) == first


# --- events ----------------------------------------------------------------------------------


def test_event_with_a_bad_ts_is_a_bad_timestamp() -> None:
    payload = b'{"event_id": "e", "type": "state", "state": "IDLE", "ts": "soon"}'

    assert rejection(CONVERTER, "shopfloor/p1/l1/m1/event", payload).reason == "bad_timestamp"


def test_event_outside_the_time_window_is_rejected() -> None:
    converter = Converter(TopicTemplate(DEFAULT_TEMPLATE), 4096, Decoder(max_ahead_s=60))
    payload = b'{"event_id": "e", "type": "state", "state": "IDLE", "ts": "2024-03-01T09:05:00Z"}'

    assert rejection(converter, "shopfloor/p1/l1/m1/event", payload).reason == "ts_out_of_range"


def test_event_keeps_its_own_measurement_and_type_tag() -> None:
    payload = b'{"event_id": "e", "type": "cycle", "counter": 3}'

    (line,) = CONVERTER.convert("shopfloor/p1/l1/m1/event", payload, ARRIVAL)

    parsed = parse_line(line)
    assert (parsed.measurement, parsed.tags["type"], parsed.ts) == ("events", "cycle", ARRIVAL_NS)


# --- settings --------------------------------------------------------------------------------


def test_converter_from_settings_uses_the_decode_settings() -> None:
    settings = GatewaySettings(
        decode=DecodeSettings(
            topic_templates=["{site}/{area}/{line}/{field*}"],
            ts_precision="s",
            field_types={"count": "int"},
        )
    )
    converter = Converter.from_settings(settings)

    (line,) = converter.convert("P/A/L/count", b'{"value": 5, "ts": 1709280000}', ARRIVAL)

    assert line == "telemetry,area=A,line=L,site=P count=5i 1709280000000000000"


# --- the committed corpus of bad messages ----------------------------------------------------

CORPUS = load_corpus()
CORPUS_CONVERTER = Converter.from_settings(
    GatewaySettings(max_payload_bytes=MAX_PAYLOAD_BYTES, decode=decode_settings())
)


def test_corpus_covers_every_reason_with_enough_messages() -> None:
    assert len(CORPUS) >= 20
    assert {m.reason for m in CORPUS} == set(REASONS)


@pytest.mark.parametrize("message", CORPUS, ids=[f"{m.reason}:{m.note}" for m in CORPUS])
def test_corpus_message_is_rejected_with_its_expected_reason(message: BadMessage) -> None:
    error = rejection(CORPUS_CONVERTER, message.topic, message.payload)

    assert (error.reason, message.note) == (message.reason, message.note)
    assert error.detail

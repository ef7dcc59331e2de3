"""Topic templates: matching topics to tags, refusing bad templates, building filters."""

from __future__ import annotations

import pytest

from shopfloor.contract.topics import (
    DEFAULT_TEMPLATE,
    EVENT,
    TELEMETRY,
    TopicTemplate,
    TopicTemplateError,
    alert_subscription,
    alert_topic,
    dead_letter_topic,
    filter_covers,
    filters_intersect,
    minimal_filters,
)

DEFAULT = TopicTemplate(DEFAULT_TEMPLATE)


@pytest.mark.parametrize(
    ("topic", "tags"),
    [
        (
            "shopfloor/plant1/line1/cnc-1/telemetry",
            {"site": "plant1", "line": "line1", "machine": "cnc-1", "kind": TELEMETRY},
        ),
        (
            "shopfloor/plant2/l 2/press,7/event",
            {"site": "plant2", "line": "l 2", "machine": "press,7", "kind": EVENT},
        ),
    ],
)
def test_matching_topic_yields_its_named_segments_as_tags(topic: str, tags: dict[str, str]) -> None:
    assert DEFAULT.match(topic) == tags


@pytest.mark.parametrize(
    "topic",
    [
        "shopfloor/plant1/line1/cnc-1",  # too few levels
        "shopfloor/plant1/line1/cnc-1/telemetry/extra",  # too many levels
        "factory/plant1/line1/cnc-1/telemetry",  # literal segment differs
        "Shopfloor/plant1/line1/cnc-1/telemetry",  # literals are case-sensitive
        "shopfloor/plant1/line1/cnc-1/status",  # unknown kind
        "shopfloor/plant1//cnc-1/telemetry",  # empty named level
        "shopfloor/plant1/line1/cnc-1/",  # empty kind
        "shopfloor/plant1/alerts/order/SO-1",  # an alert topic, not machine data
        "",
    ],
)
def test_topic_that_does_not_fit_the_template_is_skipped(topic: str) -> None:
    assert DEFAULT.match(topic) is None


def test_custom_template_with_literal_segments_in_between_matches() -> None:
    template = TopicTemplate("acme/{area}/machines/{machine}/{kind}")

    assert template.match("acme/hall-a/machines/m1/event") == {
        "area": "hall-a",
        "machine": "m1",
        "kind": "event",
    }
    assert template.match("acme/hall-a/robots/m1/event") is None


def test_minimal_template_needs_only_machine_and_kind() -> None:
    template = TopicTemplate("{machine}/{kind}")

    assert template.match("m1/telemetry") == {"machine": "m1", "kind": "telemetry"}


@pytest.mark.parametrize(
    "pattern",
    [
        "shopfloor/{site}/{line}/{machine}",  # no {kind}
        "shopfloor/{site}/{line}/{kind}",  # no {machine}
        "shopfloor/#/{machine}/{kind}",  # MQTT wildcard: {name*} takes the rest instead
        "shopfloor/{site}/a+b/{machine}/{kind}",  # + only as a whole segment
        "shopfloor/{rest*}/{machine}/{kind}",  # a rest segment must be the last
        "shopfloor/{machine}/{kind*}",  # the kind is one level
        "shopfloor/{site}/{time}/{machine}/{kind}",  # InfluxDB refuses a `time` tag
        "shopfloor/{site}/{line}/event",  # events need {machine}
        "shopfloor/{site}/{line}/{field}/event",  # a {field} topic never carries an event
        "shopfloor/{machine}/{field}/{kind}",  # ... nor a kind of its own
        "shopfloor//{machine}/{kind}",  # empty segment
        "/shopfloor/{machine}/{kind}",  # leading slash makes an empty segment
        "shopfloor/{machine}/{kind}/",  # trailing slash makes an empty segment
        "shopfloor/{Machine}/{machine}/{kind}",  # upper case name
        "shopfloor/{1st}/{machine}/{kind}",  # name starting with a digit
        "shopfloor/cell-{machine}/{kind}",  # braces must fill the whole segment
        "shopfloor/{machine/{kind}",  # unbalanced brace
        "shopfloor/{}/{machine}/{kind}",  # unnamed segment
        "shopfloor/{machine}/{machine}/{kind}",  # repeated name
        "",
    ],
)
def test_bad_template_is_refused(pattern: str) -> None:
    with pytest.raises(TopicTemplateError):
        TopicTemplate(pattern)


def test_template_error_names_the_template() -> None:
    with pytest.raises(TopicTemplateError, match=r"shopfloor/\{site\}/#"):
        TopicTemplate("shopfloor/{site}/#/{machine}/{kind}")


def test_template_with_a_stray_closing_brace_is_refused() -> None:
    with pytest.raises(TopicTemplateError):
        TopicTemplate("shopfloor/{machine}/{kind}/x}")


def test_template_error_is_a_value_error() -> None:
    # settings validators rely on this to turn it into a validation error
    assert issubclass(TopicTemplateError, ValueError)


def test_subscription_for_one_kind_fixes_the_kind_and_wildcards_the_rest() -> None:
    assert DEFAULT.subscription(EVENT) == "shopfloor/+/+/+/event"
    assert DEFAULT.subscription(TELEMETRY) == "shopfloor/+/+/+/telemetry"


def test_subscription_for_all_kinds_wildcards_every_named_segment() -> None:
    assert DEFAULT.subscription() == "shopfloor/+/+/+/+"


def test_subscription_keeps_literal_segments_in_place() -> None:
    template = TopicTemplate("acme/{area}/machines/{machine}/{kind}")

    assert template.subscription(TELEMETRY) == "acme/+/machines/+/telemetry"


def test_built_topic_matches_back_to_the_same_tags() -> None:
    tags = {"site": "p1", "line": "l1", "machine": "cnc-1", "kind": EVENT}

    topic = DEFAULT.topic(**tags)

    assert topic == "shopfloor/p1/l1/cnc-1/event"
    assert DEFAULT.match(topic) == tags


def test_building_a_topic_without_every_segment_names_the_missing_one() -> None:
    with pytest.raises(TopicTemplateError, match="line"):
        DEFAULT.topic(site="p1", machine="m1", kind=EVENT)


def test_template_is_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT.pattern = "x/{machine}/{kind}"  # type: ignore[misc]


def test_alert_topic_and_subscription_agree() -> None:
    assert alert_topic("plant1", "SO-1001") == "shopfloor/plant1/alerts/order/SO-1001/late"
    assert alert_subscription("plant1") == "shopfloor/plant1/alerts/order/+/+"
    assert alert_subscription() == "shopfloor/+/alerts/order/+/+"


@pytest.mark.parametrize("order_id", ["event", "telemetry"])
def test_alerts_of_orders_named_like_a_kind_never_look_like_machine_data(order_id: str) -> None:
    assert DEFAULT.match(alert_topic("plant1", order_id)) is None


def test_alert_topics_never_match_the_default_machine_template() -> None:
    assert DEFAULT.match(alert_topic("plant1", "SO-1001")) is None


def test_dead_letter_topic_is_per_service() -> None:
    assert dead_letter_topic("gateway") == "shopfloor/_deadletter/gateway"
    assert DEFAULT.match(dead_letter_topic("gateway")) is None


# --- skipped levels, the rest of the topic, fixed kinds ------------------------------------

PACKML = TopicTemplate("{site}/{area}/{line}/{field*}")


def test_plus_segment_matches_any_level_and_makes_no_tag() -> None:
    template = TopicTemplate("shopfloor/{site}/+/{machine}/{kind}")

    assert template.match("shopfloor/p1/hall-3/m1/event") == {
        "site": "p1",
        "machine": "m1",
        "kind": EVENT,
    }
    assert template.match("shopfloor/p1//m1/event") == {
        "site": "p1",
        "machine": "m1",
        "kind": EVENT,
    }
    assert template.match("shopfloor/p1/m1/event") is None


@pytest.mark.parametrize(
    ("topic", "field"),
    [
        ("Plant1/Area2/Line3/Status/StateCurrent", "Status/StateCurrent"),
        ("Plant1/Area2/Line3/Admin/ProdProcessedCount/0/Count", "Admin/ProdProcessedCount/0/Count"),
        ("Plant1/Area2/Line3/speed", "speed"),
    ],
)
def test_rest_segment_keeps_every_remaining_level(topic: str, field: str) -> None:
    assert PACKML.match(topic) == {
        "site": "Plant1",
        "area": "Area2",
        "line": "Line3",
        "field": field,
        "kind": TELEMETRY,
    }


@pytest.mark.parametrize(
    "topic",
    [
        "Plant1/Area2/Line3",  # the rest needs at least one level
        "Plant1/Area2/Line3/",  # ... that is not empty
        "Plant1/Area2/Line3/Status//StateCurrent",  # no empty level inside it either
        "Plant1//Line3/Status",  # named one-level segments are never empty
    ],
)
def test_rest_segment_needs_non_empty_levels(topic: str) -> None:
    assert PACKML.match(topic) is None


def test_rest_segment_levels_are_joined_with_the_template_separator() -> None:
    template = TopicTemplate("{site}/{area}/{line}/{field*}", separator=".")

    tags = template.match("P/A/L/Status/StateCurrent")

    assert tags is not None and tags["field"] == "Status.StateCurrent"


def test_rest_segment_with_another_name_becomes_a_tag() -> None:
    template = TopicTemplate("plc/{machine}/values/{path*}", kind=TELEMETRY, separator="_")

    assert template.match("plc/m1/values/axis/x") == {
        "machine": "m1",
        "path": "axis_x",
        "kind": TELEMETRY,
    }


@pytest.mark.parametrize(
    ("template", "kinds"),
    [
        (DEFAULT, (TELEMETRY, EVENT)),
        (TopicTemplate("shopfloor/{site}/{line}/{machine}/telemetry"), (TELEMETRY,)),
        (TopicTemplate("shopfloor/{site}/{line}/{machine}/event"), (EVENT,)),
        (PACKML, (TELEMETRY,)),
        (TopicTemplate("plc/{machine}/data", kind=EVENT), (EVENT,)),
        (TopicTemplate("plc/{site}/data", kind=TELEMETRY), (TELEMETRY,)),
    ],
)
def test_kind_comes_from_the_topic_a_literal_last_level_a_field_or_the_setting(
    template: TopicTemplate, kinds: tuple[str, ...]
) -> None:
    assert template.kinds == kinds


def test_fixed_kind_is_part_of_every_match() -> None:
    template = TopicTemplate("plc/{machine}/data", kind=EVENT)

    assert template.match("plc/m1/data") == {"machine": "m1", "kind": EVENT}


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [
        ("plc/{machine}/{kind}", TELEMETRY),  # two sources for the kind
        ("plc/{machine}/data", "status"),  # not a kind
        ("plc/{site}/data", EVENT),  # an event needs its machine
    ],
)
def test_bad_fixed_kind_is_refused(pattern: str, kind: str) -> None:
    with pytest.raises(TopicTemplateError):
        TopicTemplate(pattern, kind=kind)


@pytest.mark.parametrize("separator", ["", "a\\b"])
def test_bad_separator_is_refused(separator: str) -> None:
    with pytest.raises(TopicTemplateError):
        TopicTemplate("{site}/{field*}", separator=separator)


@pytest.mark.parametrize(
    ("template", "filters"),
    [
        (DEFAULT, ["shopfloor/+/+/+/telemetry", "shopfloor/+/+/+/event"]),
        (PACKML, ["+/+/+/#"]),
        (TopicTemplate("shopfloor/{site}/+/{machine}/telemetry"), ["shopfloor/+/+/+/telemetry"]),
        (TopicTemplate("plc/{machine}/data", kind=EVENT), ["plc/+/data"]),
    ],
)
def test_each_template_yields_its_mqtt_filters(template: TopicTemplate, filters: list[str]) -> None:
    assert template.subscriptions() == filters


def test_subscription_for_a_kind_the_template_does_not_carry_is_an_error() -> None:
    with pytest.raises(TopicTemplateError, match="carries no event"):
        PACKML.subscription(EVENT)


def test_topic_with_a_rest_segment_is_built_from_a_path() -> None:
    assert PACKML.topic(site="P", area="A", line="L", field="Status/StateCurrent") == (
        "P/A/L/Status/StateCurrent"
    )


def test_topic_of_a_fixed_kind_template_needs_no_kind_and_refuses_another() -> None:
    template = TopicTemplate("shopfloor/{machine}/telemetry")

    assert template.topic(machine="m1") == "shopfloor/m1/telemetry"
    assert template.topic(machine="m1", kind=TELEMETRY) == "shopfloor/m1/telemetry"
    with pytest.raises(TopicTemplateError):
        template.topic(machine="m1", kind=EVENT)


def test_topic_cannot_be_built_for_a_skipped_level() -> None:
    with pytest.raises(TopicTemplateError):
        TopicTemplate("x/+/{machine}/{kind}").topic(machine="m", kind=EVENT)


@pytest.mark.parametrize(
    ("wide", "narrow", "covers"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/+/c", True),
        ("a/#", "a/b/c", True),
        ("a/#", "a/+/#", True),
        ("+/+/+/#", "shopfloor/+/+/+/event", True),
        ("a/b/c", "a/+/c", False),
        ("a/+", "a/b/c", False),
        ("a/+/#", "a/#", False),
        ("a/b", "a/c", False),
        ("+/+/+/#", "a/b/c", True),  # `#` also matches its parent level
        ("+/+/+/#", "a/b", False),
    ],
)
def test_filter_covers_follows_mqtt_wildcards(wide: str, narrow: str, covers: bool) -> None:
    assert filter_covers(wide, narrow) is covers


def test_minimal_filters_drop_repeats_and_covered_filters_keeping_order() -> None:
    filters = ["a/+/event", "x", "+/+/#", "a/+/event", "x"]

    assert minimal_filters(filters) == ["x", "+/+/#"]


@pytest.mark.parametrize(
    ("a", "b", "both"),
    [
        ("+/+/+/#", "spBv1.0/g/NDATA/n", True),
        ("shopfloor/+/+/+/telemetry", "shopfloor/+/+/+/event", False),
        ("shopfloor/+/+/+/event", "spBv1.0/+/NDATA/+", False),
        ("Greenville/Packaging/Line1/#", "Greenville/Packaging/Line1", True),
        ("a/+", "a/b/c", False),
        ("#", "x/y", True),
        ("a/b", "a/b", True),
    ],
)
def test_filters_intersect_when_one_topic_can_match_both(a: str, b: str, both: bool) -> None:
    assert filters_intersect(a, b) is both
    assert filters_intersect(b, a) is both

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
        "shopfloor/{site}/+/{machine}/{kind}",  # MQTT wildcard
        "shopfloor/#/{machine}/{kind}",  # MQTT wildcard
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
    with pytest.raises(TopicTemplateError, match=r"shopfloor/\{site\}/\+"):
        TopicTemplate("shopfloor/{site}/+/{machine}/{kind}")


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

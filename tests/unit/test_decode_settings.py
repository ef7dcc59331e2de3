"""SHOPFLOOR_DECODE__* settings: templates, timestamps, window, field types; bad values named."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from shopfloor.contract.topics import TELEMETRY


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SHOPFLOOR_"):
            monkeypatch.delenv(name)


def test_defaults_keep_the_contract_one_template_ms_five_minutes_ahead_floats() -> None:
    decode = GatewaySettings().decode

    assert decode.topic_templates == []
    assert (decode.ts_precision, decode.max_ahead_s, decode.max_behind_s) == ("ms", 300, 0)
    assert decode.field_types == {}
    assert decode.separator == "_"
    assert GatewaySettings().subscriptions() == [
        "shopfloor/+/+/+/telemetry",
        "shopfloor/+/+/+/event",
    ]


def test_decode_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SHOPFLOOR_DECODE__TOPIC_TEMPLATES",
        '["shopfloor/{site}/{line}/{machine}/{kind}",'
        ' {"pattern": "{site}/{area}/{line}/{field*}", "separator": "."}]',
    )
    monkeypatch.setenv("SHOPFLOOR_DECODE__TS_PRECISION", "s")
    monkeypatch.setenv("SHOPFLOOR_DECODE__MAX_AHEAD_S", "60")
    monkeypatch.setenv("SHOPFLOOR_DECODE__MAX_BEHIND_S", "604800")
    monkeypatch.setenv("SHOPFLOOR_DECODE__FIELD_TYPES", '{"StateCurrent": "string", "n": "int"}')
    monkeypatch.setenv("SHOPFLOOR_DECODE__SEPARATOR", ".")

    settings = GatewaySettings()

    assert [t.pattern for t in settings.templates] == [
        "shopfloor/{site}/{line}/{machine}/{kind}",
        "{site}/{area}/{line}/{field*}",
    ]
    assert settings.templates[1].match("P/A/L/Status/StateCurrent") == {
        "site": "P",
        "area": "A",
        "line": "L",
        "field": "Status.StateCurrent",
        "kind": TELEMETRY,
    }
    assert settings.decode.field_types == {"StateCurrent": "string", "n": "int"}
    assert (settings.decode.ts_precision, settings.decode.max_ahead_s) == ("s", 60)
    assert settings.decode.max_behind_s == 604800
    assert settings.decode.separator == "."


def test_subscriptions_leave_out_filters_a_wider_template_covers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "SHOPFLOOR_DECODE__TOPIC_TEMPLATES",
        '["shopfloor/{site}/{line}/{machine}/{kind}", "shopfloor/{site}/{line}/{field*}",'
        ' {"pattern": "plc/{machine}/data", "kind": "event"}]',
    )

    assert GatewaySettings().subscriptions() == ["shopfloor/+/+/#", "plc/+/data"]


def test_decode_templates_replace_the_shared_topic_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPFLOOR_TOPIC_TEMPLATE", "acme/{machine}/{kind}")
    monkeypatch.setenv("SHOPFLOOR_DECODE__TOPIC_TEMPLATES", '["{site}/{field*}"]')

    assert [t.pattern for t in GatewaySettings().templates] == ["{site}/{field*}"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHOPFLOOR_DECODE__TOPIC_TEMPLATES", '["shopfloor/{site}/{machine}"]'),
        ("SHOPFLOOR_DECODE__TOPIC_TEMPLATES", '[{"pattern": "a/{machine}", "kind": "status"}]'),
        ("SHOPFLOOR_DECODE__TOPIC_TEMPLATES", "shopfloor/{site}"),
        ("SHOPFLOOR_DECODE__TS_PRECISION", "minutes"),
        ("SHOPFLOOR_DECODE__MAX_AHEAD_S", "-1"),
        ("SHOPFLOOR_DECODE__MAX_BEHIND_S", "a week"),
        ("SHOPFLOOR_DECODE__FIELD_TYPES", '{"StateCurrent": "text"}'),
        ("SHOPFLOOR_DECODE__FIELD_TYPES", "StateCurrent=string"),
        ("SHOPFLOOR_DECODE__SEPARATOR", "\\"),
        ("SHOPFLOOR_DECODE__SEPARATOR", " "),
    ],
)
def test_bad_decode_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError) as excinfo:
        GatewaySettings()

    named = {
        "SHOPFLOOR_" + "__".join(str(p) for p in e["loc"]).upper() for e in excinfo.value.errors()
    }
    assert any(n.startswith(variable) for n in named) or variable in str(excinfo.value), named


def test_machine_sources_are_never_shared_between_gateways() -> None:
    settings = GatewaySettings(
        share_group="gw",
        mapping={"machines": [{"id": "f1", "source": {"topic": "Site/A/L1/{tag*}", "state": "S"}}]},
    )
    assert settings.subscribed() == [
        "$share/gw/shopfloor/+/+/+/telemetry",
        "$share/gw/shopfloor/+/+/+/event",
        "Site/A/L1/#",
    ]

"""Gateway and tracker settings from SHOPFLOOR_* variables; bad values fail and name the variable.

"Names the variable" is checked the way the CLI reports it: the error's location becomes
`SHOPFLOOR_<LOC>` (nested parts joined by `__`), or the message itself names the variable.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from tracker.settings import TrackerSettings

GOOD_KEY = "0123456789abcdef-strong"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test with no SHOPFLOOR_* variables from the outer environment."""
    for name in list(os.environ):
        if name.startswith("SHOPFLOOR_"):
            monkeypatch.delenv(name)


def _named_variables(exc: ValidationError) -> set[str]:
    names = set()
    for err in exc.errors():
        if err["loc"]:
            names.add("SHOPFLOOR_" + "__".join(str(p) for p in err["loc"]).upper())
        names.update(re.findall(r"SHOPFLOOR_[A-Z0-9_]+", err["msg"]))
    return names


def _fails_naming(cls: type, variable: str) -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        cls()
    assert variable in _named_variables(excinfo.value)
    return excinfo.value


# --- gateway ---------------------------------------------------------------------------------


def test_gateway_starts_with_defaults_writing_to_sqlite() -> None:
    settings = GatewaySettings()

    assert settings.influx.sink == "sqlite"
    assert settings.mqtt.client_id == "shopfloor-gateway"
    assert settings.template.pattern == "shopfloor/{site}/{line}/{machine}/{kind}"
    assert settings.batch_size == 5000
    assert settings.metrics_port is None


def test_gateway_reads_flat_and_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_BATCH_SIZE", "250")
    monkeypatch.setenv("SHOPFLOOR_FLUSH_INTERVAL_S", "0.5")
    monkeypatch.setenv("SHOPFLOOR_TOPIC_TEMPLATE", "acme/{machine}/{kind}")
    monkeypatch.setenv("SHOPFLOOR_MQTT__HOST", "broker.local")
    monkeypatch.setenv("SHOPFLOOR_MQTT__PORT", "8883")
    monkeypatch.setenv("SHOPFLOOR_INFLUX__SINK", "influx1")
    monkeypatch.setenv("SHOPFLOOR_INFLUX__VERIFY_TLS", "false")

    settings = GatewaySettings()

    assert settings.batch_size == 250
    assert settings.flush_interval_s == 0.5
    assert settings.template.match("acme/m1/event") == {"machine": "m1", "kind": "event"}
    assert (settings.mqtt.host, settings.mqtt.port) == ("broker.local", 8883)
    assert settings.influx.sink == "influx1"
    assert settings.influx.verify_tls is False


def test_gateway_keeps_its_client_id_when_other_mqtt_settings_are_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPFLOOR_MQTT__HOST", "broker.local")

    assert GatewaySettings().mqtt.client_id == "shopfloor-gateway"


def test_gateway_takes_an_explicit_client_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_MQTT__CLIENT_ID", "gw-2")

    assert GatewaySettings().mqtt.client_id == "gw-2"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHOPFLOOR_BATCH_SIZE", "lots"),
        ("SHOPFLOOR_BATCH_SIZE", "0"),
        ("SHOPFLOOR_BATCH_SIZE", "100001"),
        ("SHOPFLOOR_FLUSH_INTERVAL_S", "0"),
        ("SHOPFLOOR_FLUSH_INTERVAL_S", "61"),
        ("SHOPFLOOR_MAX_PAYLOAD_BYTES", "63"),
        ("SHOPFLOOR_METRICS_PORT", "70000"),
        ("SHOPFLOOR_MQTT__PORT", "mqtt"),
        ("SHOPFLOOR_MQTT__PROTOCOL", "4"),
        ("SHOPFLOOR_MQTT__HOST", "mqtt://broker:1883"),
        ("SHOPFLOOR_INFLUX__SINK", "prometheus"),
        ("SHOPFLOOR_INFLUX__TIMEOUT_S", "0"),
        ("SHOPFLOOR_INFLUX__VERIFY_TLS", "maybe"),
    ],
)
def test_gateway_bad_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    _fails_naming(GatewaySettings, variable)


def test_influx2_sink_without_a_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_INFLUX__SINK", "influx2")

    _fails_naming(GatewaySettings, "SHOPFLOOR_INFLUX__TOKEN")


def test_influx2_sink_with_a_token_starts_and_hides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_INFLUX__SINK", "influx2")
    monkeypatch.setenv("SHOPFLOOR_INFLUX__TOKEN", "s3cr3t-token")

    settings = GatewaySettings()

    assert settings.influx.token is not None
    assert settings.influx.token.get_secret_value() == "s3cr3t-token"
    assert "s3cr3t-token" not in repr(settings)


@pytest.mark.parametrize("sink", ["influx1", "sqlite"])
def test_other_sinks_need_no_token(monkeypatch: pytest.MonkeyPatch, sink: str) -> None:
    monkeypatch.setenv("SHOPFLOOR_INFLUX__SINK", sink)

    assert GatewaySettings().influx.token is None


def test_gateway_bad_topic_template_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_TOPIC_TEMPLATE", "shopfloor/{site}/{machine}")

    with pytest.raises(ValidationError, match="must contain"):
        GatewaySettings()


def test_gateway_bad_topic_template_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_TOPIC_TEMPLATE", "shopfloor/{site}/{machine}")

    _fails_naming(GatewaySettings, "SHOPFLOOR_TOPIC_TEMPLATE")


# --- tracker ---------------------------------------------------------------------------------


def test_tracker_needs_an_api_key() -> None:
    _fails_naming(TrackerSettings, "SHOPFLOOR_API_KEY")


def test_tracker_starts_with_a_strong_api_key_and_hides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)

    settings = TrackerSettings()

    assert settings.api_key.get_secret_value() == GOOD_KEY
    assert GOOD_KEY not in repr(settings)
    assert settings.mqtt.client_id == "shopfloor-tracker"
    assert settings.site == "plant1"
    assert settings.template.subscription("event") == "shopfloor/+/+/+/event"


def test_api_key_of_exactly_16_characters_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", "x" * 16)

    assert TrackerSettings().api_key.get_secret_value() == "x" * 16


@pytest.mark.parametrize(
    "key",
    ["changeme", "CHANGEME", "change-me", "secret", "password", "apikey", "api-key", "", "x" * 15],
)
def test_placeholder_or_short_api_key_is_refused(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", key)

    exc = _fails_naming(TrackerSettings, "SHOPFLOOR_API_KEY")

    if key:
        assert key not in " ".join(err["msg"] for err in exc.errors())  # no echo of the secret


def test_tracker_reads_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    monkeypatch.setenv("SHOPFLOOR_DATABASE_URL", "postgresql+psycopg://u@db/shopfloor")
    monkeypatch.setenv("SHOPFLOOR_SITE", "plant9")
    monkeypatch.setenv("SHOPFLOOR_API_PORT", "9000")
    monkeypatch.setenv("SHOPFLOOR_CHECK_INTERVAL_S", "15")
    monkeypatch.setenv("SHOPFLOOR_MQTT__HOST", "broker.local")

    settings = TrackerSettings()

    assert settings.database_url == "postgresql+psycopg://u@db/shopfloor"
    assert settings.site == "plant9"
    assert settings.api_port == 9000
    assert settings.check_interval_s == 15.0
    assert settings.mqtt.host == "broker.local"
    assert settings.mqtt.client_id == "shopfloor-tracker"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHOPFLOOR_API_PORT", "0"),
        ("SHOPFLOOR_API_PORT", "http"),
        ("SHOPFLOOR_CHECK_INTERVAL_S", "0"),
        ("SHOPFLOOR_CHECK_INTERVAL_S", "soon"),
        ("SHOPFLOOR_TOPIC_TEMPLATE", "shopfloor/{site}/#/{machine}/{kind}"),
        ("SHOPFLOOR_MQTT__PORT", "99999"),
        ("SHOPFLOOR_MQTT__RECEIVE_MAXIMUM", "0"),
    ],
)
def test_tracker_bad_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    monkeypatch.setenv(variable, value)

    _fails_naming(TrackerSettings, variable)


def test_variables_without_the_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", GOOD_KEY)
    monkeypatch.setenv("BATCH_SIZE", "0")

    assert GatewaySettings().batch_size == 5000
    _fails_naming(TrackerSettings, "SHOPFLOOR_API_KEY")


@pytest.mark.parametrize(
    "template",
    ["shopfloor/{site}/{line}/{machine}/telemetry", "shopfloor/{site}/{line}/{field*}"],
)
def test_tracker_refuses_a_topic_template_that_carries_no_machine_events(
    monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", "k" * 32)
    monkeypatch.setenv("SHOPFLOOR_TOPIC_TEMPLATE", template)
    with pytest.raises(ValidationError, match="must carry events"):
        TrackerSettings()  # type: ignore[call-arg]


def test_signed_webhooks_sit_beside_the_plain_urls_and_their_secrets_stay_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "whsec_" + "QUJD" * 8  # 24 bytes
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    monkeypatch.setenv("SHOPFLOOR_WEBHOOK_URLS", '["https://hooks.example.com/slack"]')
    monkeypatch.setenv(
        "SHOPFLOOR_WEBHOOKS", f'[{{"url": "https://erp.example.com/alerts", "secret": "{secret}"}}]'
    )
    settings = TrackerSettings()
    keys = settings.webhook_keys()
    assert keys == {
        "https://hooks.example.com/slack": None,
        "https://erp.example.com/alerts": b"ABC" * 8,
    }
    assert secret not in repr(settings) and secret not in str(settings.model_dump())


def test_a_bad_webhook_secret_or_a_url_given_twice_fails_without_quoting_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    monkeypatch.setenv("SHOPFLOOR_WEBHOOKS", '[{"url": "https://a.example/", "secret": "hunter2"}]')
    error = _fails_naming(TrackerSettings, "SHOPFLOOR_WEBHOOKS__0__SECRET")
    assert "whsec_" in error.errors()[0]["msg"] and "hunter2" not in error.errors()[0]["msg"]
    monkeypatch.setenv("SHOPFLOOR_WEBHOOK_URLS", '["https://a.example/"]')
    monkeypatch.setenv("SHOPFLOOR_WEBHOOKS", '[{"url": "https://a.example/"}]')
    _fails_naming(TrackerSettings, "SHOPFLOOR_WEBHOOKS")


# --- tracker: machine charts -----------------------------------------------------------------


def test_machine_charts_read_no_store_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    assert TrackerSettings().telemetry.kind == "none"
    monkeypatch.setenv("SHOPFLOOR_TELEMETRY__KIND", "influx1")
    monkeypatch.setenv("SHOPFLOOR_TELEMETRY__URL", "http://influx.plant:8086")
    monkeypatch.setenv("SHOPFLOOR_TELEMETRY__INFLUX_ROLLUP", "true")
    telemetry = TrackerSettings().telemetry
    assert (telemetry.kind, telemetry.url, telemetry.influx_rollup) == (
        "influx1",
        "http://influx.plant:8086",
        True,
    )


def test_an_unknown_telemetry_store_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    monkeypatch.setenv("SHOPFLOOR_TELEMETRY__KIND", "influx3")
    _fails_naming(TrackerSettings, "SHOPFLOOR_TELEMETRY__KIND")


def test_the_plant_logo_is_an_image_file_of_bounded_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    logo = tmp_path / "logo.svg"
    logo.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    monkeypatch.setenv("SHOPFLOOR_PLANT_LOGO", str(logo))
    monkeypatch.setenv("SHOPFLOOR_PLANT_NAME", "Werk Süd")
    settings = TrackerSettings()
    assert (settings.plant_logo, settings.plant_name) == (logo, "Werk Süd")
    for bad, why in (
        (tmp_path / "missing.png", "no such file"),
        (tmp_path / "logo.gif", "a logo is"),
        (tmp_path / "huge.png", "larger than 256 KiB"),
    ):
        if bad.name == "huge.png":
            bad.write_bytes(b"\0" * (256 * 1024 + 1))
        monkeypatch.setenv("SHOPFLOOR_PLANT_LOGO", str(bad))
        error = _fails_naming(TrackerSettings, "SHOPFLOOR_PLANT_LOGO")
        assert why in str(error)


def test_the_at_risk_rule_is_the_fixed_rules_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    assert TrackerSettings().at_risk_rule == "rules"
    monkeypatch.setenv("SHOPFLOOR_AT_RISK_RULE", "p_on_time")
    monkeypatch.setenv("SHOPFLOOR_FORESIGHT_BACK_ON_TRACK_ABOVE", "0.8")
    settings = TrackerSettings()
    assert (settings.at_risk_rule, settings.foresight_back_on_track_above) == ("p_on_time", 0.8)
    monkeypatch.setenv("SHOPFLOOR_AT_RISK_RULE", "gut_feeling")
    _fails_naming(TrackerSettings, "SHOPFLOOR_AT_RISK_RULE")


def test_a_recovery_threshold_under_the_at_risk_one_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", GOOD_KEY)
    monkeypatch.setenv("SHOPFLOOR_FORESIGHT_AT_RISK_BELOW", "0.6")
    monkeypatch.setenv("SHOPFLOOR_FORESIGHT_BACK_ON_TRACK_ABOVE", "0.5")
    error = _fails_naming(TrackerSettings, "SHOPFLOOR_FORESIGHT_BACK_ON_TRACK_ABOVE")
    assert "SHOPFLOOR_FORESIGHT_AT_RISK_BELOW (0.6)" in str(error)
    monkeypatch.setenv("SHOPFLOOR_FORESIGHT_BACK_ON_TRACK_ABOVE", "0.6")  # equal: no hysteresis
    assert TrackerSettings().foresight_back_on_track_above == 0.6

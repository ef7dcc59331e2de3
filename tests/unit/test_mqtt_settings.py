"""MqttSettings and `--broker` URLs: TLS switches, default ports, credentials, and errors that
name the setting at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from launcher.errors import settings_error
from shopfloor.mqtt import MqttSettings, broker_settings

NOT_PEM = "this is not a PEM file\n"


@pytest.fixture
def junk(tmp_path: Path) -> Path:
    path = tmp_path / "junk.pem"
    path.write_text(NOT_PEM)
    return path


def test_tls_is_off_by_default_and_verifies_the_server_when_on() -> None:
    plain = MqttSettings()
    secure = MqttSettings(tls=True)

    assert (plain.tls, plain.port, plain.ssl_context()) == (False, 1883, None)
    context = secure.ssl_context()
    assert secure.port == 8883
    assert context is not None and context.check_hostname
    assert context.verify_mode.name == "CERT_REQUIRED"
    assert context.minimum_version.name == "TLSv1_2"


def test_a_port_given_with_tls_is_kept() -> None:
    assert MqttSettings(tls=True, port=443).port == 443


def test_tls_insecure_turns_verification_off() -> None:
    context = MqttSettings(tls=True, tls_insecure=True).ssl_context()

    assert context is not None
    assert not context.check_hostname
    assert context.verify_mode.name == "CERT_NONE"


def test_a_certificate_file_without_tls_is_an_error_that_says_how_to_turn_it_on(
    junk: Path,
) -> None:
    with pytest.raises(ValidationError, match="SHOPFLOOR_MQTT__CA_FILE is set but TLS is off"):
        MqttSettings(ca_file=junk)


def test_a_missing_ca_file_names_its_setting(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SHOPFLOOR_MQTT__TLS", "true")
    clean_env.setenv("SHOPFLOOR_MQTT__CA_FILE", "/nonexistent/ca.pem")

    with pytest.raises(ValidationError) as caught:
        GatewaySettings()

    assert [e["loc"] for e in caught.value.errors()] == [("mqtt", "ca_file")]


def test_a_ca_file_that_is_no_certificate_names_its_setting(
    junk: Path, clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("SHOPFLOOR_MQTT__TLS", "true")
    clean_env.setenv("SHOPFLOOR_MQTT__CA_FILE", str(junk))

    with pytest.raises(ValidationError) as caught:
        GatewaySettings()
    assert settings_error(caught.value) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"shopfloor: bad settings: SHOPFLOOR_MQTT__CA_FILE {junk}: no CA cert")


def test_a_client_certificate_that_does_not_load_names_its_settings(junk: Path) -> None:
    with pytest.raises(ValidationError, match="SHOPFLOOR_MQTT__CERT_FILE .* SHOPFLOOR_MQTT__KEY"):
        MqttSettings(tls=True, cert_file=junk, key_file=junk)


def test_a_key_without_its_certificate_is_an_error(junk: Path) -> None:
    with pytest.raises(ValidationError, match="SHOPFLOOR_MQTT__KEY_FILE needs .*CERT_FILE"):
        MqttSettings(tls=True, key_file=junk)


@pytest.mark.parametrize(
    ("url", "host", "port", "tls"),
    [
        ("mqtt://broker.plant:1884", "broker.plant", 1884, False),
        ("mqtt://broker.plant", "broker.plant", 1883, False),
        ("broker.plant", "broker.plant", 1883, False),
        ("mqtts://broker.plant", "broker.plant", 8883, True),
        ("mqtts://broker.plant:443", "broker.plant", 443, True),
        ("ssl://10.0.0.5", "10.0.0.5", 8883, True),
    ],
)
def test_a_broker_url_gives_host_port_and_tls(
    url: str, host: str, port: int, tls: bool, clean_env: pytest.MonkeyPatch
) -> None:
    settings = broker_settings(url)

    assert (settings.host, settings.port, settings.tls) == (host, port, tls)
    assert (settings.ssl_context() is not None) == tls


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "mqtt://broker:99999"])
def test_a_bad_broker_url_is_a_value_error(url: str, clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="broker URL"):
        broker_settings(url)


def test_credentials_come_from_the_url_or_else_the_environment(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("SHOPFLOOR_MQTT__USERNAME", "sim")
    clean_env.setenv("SHOPFLOOR_MQTT__PASSWORD", "from-env")

    from_env = broker_settings("mqtts://broker")
    from_url = broker_settings("mqtts://cnc-1:p%40ss@broker")

    assert from_env.username == "sim" and from_env.password is not None
    assert from_env.password.get_secret_value() == "from-env"
    assert from_url.username == "cnc-1" and from_url.password is not None
    assert from_url.password.get_secret_value() == "p@ss"


def test_the_environment_may_turn_tls_on_but_never_sets_a_client_id(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("SHOPFLOOR_MQTT__TLS", "true")
    clean_env.setenv("SHOPFLOOR_MQTT__CLIENT_ID", "shopfloor-gateway")  # not the sim's to take

    settings = broker_settings("mqtt://broker", protocol="3.1.1")

    assert (settings.tls, settings.port, settings.protocol) == (True, 8883, "3.1.1")
    assert settings.client_id == ""


def test_a_bad_tls_file_in_the_environment_names_its_variable(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("SHOPFLOOR_MQTT__CA_FILE", "/nonexistent/ca.pem")

    with pytest.raises(ValueError, match="SHOPFLOOR_MQTT__CA_FILE: Path does not point to a file"):
        broker_settings("mqtts://broker")


def test_messages_say_where_the_broker_is_and_whether_tls_is_on() -> None:
    assert MqttSettings(host="b", port=1).describe() == "b:1"
    assert MqttSettings(host="b", tls=True).describe() == "b:8883 (TLS)"

"""MQTT connection settings and the paho client factory shared by every service."""

from __future__ import annotations

import logging
import socket
import ssl
import sys
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)
paho_log = logging.getLogger(f"{__name__}.paho")

ENV_PREFIX = "SHOPFLOOR_MQTT__"
PLAIN_PORT, TLS_PORT = 1883, 8883


class BrokerEnvironment(BaseSettings):
    """What a `--broker` URL does not say, the environment may: credentials and TLS, never
    client ids (SHOPFLOOR_MQTT__*). Raw text here; `MqttSettings` validates it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    username: str | None = None
    password: str | None = None
    tls: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    key_password: str | None = None
    tls_insecure: str | None = None


class MqttSettings(BaseModel):
    """Where the broker is and how to talk to it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    host: str = "127.0.0.1"
    """broker host name (no `mqtt://`)"""
    # 8883 when TLS is on and no port is given
    port: int = Field(default=PLAIN_PORT, ge=1, le=65535)
    """broker port (`8883` with TLS)"""
    username: str | None = None
    """broker user"""
    password: SecretStr | None = None
    """broker password"""
    protocol: Literal["5", "3.1.1"] = "5"
    """`5` or `3.1.1`"""
    client_id: str = ""
    """stable id: the broker keeps the session (and queues messages) while the service is away;
    distinct per instance
    """
    # how many unacknowledged QoS 1 messages the broker may send us at once (MQTT 5)
    receive_maximum: int = Field(default=5000, ge=1, le=65535)
    """unacknowledged QoS 1 messages the broker may send at once (MQTT 5); bounds the gateway's
    memory at this many messages
    """
    # how many QoS 1 messages we may send before the broker acknowledges them: at most what
    # the broker takes (Mosquitto's max_inflight_messages, 20 unless configured)
    max_inflight: int = Field(default=20, ge=1, le=65535)
    """QoS 1 messages a client may have sent and not yet had acknowledged; at most what the broker
    takes (Mosquitto's `max_inflight_messages`, 20 unless configured; compose sets both to 1000).
    The gateway's mapped events wait for their PUBACKs before the message they came from is
    acknowledged, so a larger window keeps a backlog of mapped tags flowing
    """
    keepalive_s: int = Field(default=30, ge=5)
    """MQTT keep-alive, seconds (5 or more)"""
    # how long the broker keeps our session (and queues for it) while we are away (MQTT 5)
    session_expiry_s: int = Field(default=86_400, ge=0, le=4_294_967_295)
    """how long the broker keeps the session while the service is away (MQTT 5; a day)"""
    # TLS 1.2+; the server's certificate and host name are checked against ca_file (PEM), or
    # against the system's CAs when ca_file is not given
    tls: bool = False
    """MQTT over TLS 1.2+, the server's certificate and host name verified ([MQTT over
    TLS](production.md#mqtt-over-tls-and-broker-accounts))
    """
    ca_file: FilePath | None = None
    """PEM file of the CA(s) that signed the broker's certificate; none: the system's CAs"""
    # mutual TLS: the client's certificate chain and private key (PEM)
    cert_file: FilePath | None = None
    """mutual TLS: the client's certificate (PEM, chain after it)"""
    key_file: FilePath | None = None
    """mutual TLS: the client's private key (PEM); none: it is in the certificate file"""
    key_password: SecretStr | None = None
    """the password of an encrypted private key"""
    # no server verification at all: for a lab broker only, never on a plant network
    tls_insecure: bool = False
    """no verification of the server's certificate or name at all: a lab broker only"""
    _context: ssl.SSLContext | None = PrivateAttr(default=None)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if "://" in value:
            raise ValueError("give the broker host name only, e.g. 127.0.0.1 (port is separate)")
        return value

    @model_validator(mode="after")
    def _tls(self) -> MqttSettings:
        given = [n for n in ("ca_file", "cert_file", "key_file") if getattr(self, n) is not None]
        if not self.tls:
            if given:
                raise ValueError(
                    f"{_var(given[0])} is set but TLS is off: set {_var('tls')}=true "
                    "(or give the broker as mqtts://host)"
                )
            return self
        if "port" not in self.model_fields_set:
            self.port = TLS_PORT
        self._context = tls_context(self)
        return self

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context every client of these settings shares; None without TLS."""
        return self._context

    def describe(self) -> str:
        """`host:port`, and `(TLS)` when it is on, for messages."""
        return f"{self.host}:{self.port}" + (" (TLS)" if self.tls else "")


def _var(field: str) -> str:
    return ENV_PREFIX + field.upper()


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    """A client TLS context (1.2 or newer) from the settings; a bad file names its setting."""
    ca = str(settings.ca_file) if settings.ca_file else None
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"{_var('ca_file')} {ca}: no CA certificate in it ({exc})") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.key_file is not None and settings.cert_file is None:
        raise ValueError(f"{_var('key_file')} needs {_var('cert_file')} (the client certificate)")
    if settings.cert_file is not None:
        password = settings.key_password.get_secret_value() if settings.key_password else None
        try:
            context.load_cert_chain(settings.cert_file, settings.key_file, password=password)
        except (ssl.SSLError, OSError) as exc:
            names = f"{_var('cert_file')} {settings.cert_file}"
            if settings.key_file is not None:
                names += f" and {_var('key_file')} {settings.key_file}"
            raise ValueError(
                f"{names}: cannot load the client certificate and its key "
                f"(a PEM certificate, its matching key, {_var('key_password')} if it is "
                f"encrypted): {exc}"
            ) from None
    if settings.tls_insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _errors(exc: ValidationError) -> str:
    """One line per problem, each naming its SHOPFLOOR_MQTT__* variable where it has one."""
    lines = []
    for err in exc.errors():
        where = _var(str(err["loc"][0])) + ": " if err["loc"] else ""
        lines.append(f"bad MQTT setting: {where}{err['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def broker_settings(url: str, **fields: Any) -> MqttSettings:
    """Settings for a `--broker` URL: `mqtt://[user[:password]@]host[:port]`, or `mqtts://`
    for TLS (port 8883 by default); credentials and TLS files it does not give come from
    SHOPFLOOR_MQTT__*. ValueError names what is wrong."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp", "mqtts", "ssl") or not parts.hostname:
        raise ValueError(f"broker URL {url!r} must look like mqtt://host:1883 or mqtts://host:8883")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"broker URL {url!r} has a bad port") from None
    values: dict[str, Any] = {
        name: value for name, value in BrokerEnvironment().model_dump().items() if value
    }
    values.update(fields, host=parts.hostname)
    if parts.scheme in ("mqtts", "ssl"):
        values["tls"] = True
    if port is not None:
        values["port"] = port
    if parts.username:
        values["username"] = unquote(parts.username)
        values["password"] = unquote(parts.password) if parts.password else None
    try:
        return MqttSettings.model_validate(values)
    except ValidationError as exc:
        raise ValueError(_errors(exc)) from None


def make_client(settings: MqttSettings, client_id: str, *, manual_ack: bool = False) -> mqtt.Client:
    """Build a paho 2.x client with a persistent session (stable id, no clean start)."""
    if settings.protocol == "5":
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=False,
            manual_ack=manual_ack,
        )
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    context = settings.ssl_context()
    if context is not None:
        client.tls_set_context(context)
        # a refused client certificate (TLS 1.3) shows only as paho's read error: let it be seen
        client.enable_logger(paho_log)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_inflight_messages_set(settings.max_inflight)
    client.max_queued_messages_set(0)
    # paho retries on its own, silently: say so each time (at most every 30 s), with the reason
    client.on_connect_fail = lambda _c, _u: log.warning(
        "%s cannot connect to the MQTT broker at %s: %s; retrying",
        client_id,
        settings.describe(),
        sys.exc_info()[1] or "no reason given",  # paho calls us from its `except OSError`
    )
    return client


def connect(
    client: mqtt.Client, settings: MqttSettings, *, session_expiry_s: int | None = None
) -> None:
    """Start connecting in the background; paho's loop reconnects by itself after a drop."""
    if settings.protocol == "5":
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = (
            settings.session_expiry_s if session_expiry_s is None else session_expiry_s
        )
        props.ReceiveMaximum = settings.receive_maximum
        client.connect_async(
            settings.host,
            settings.port,
            keepalive=settings.keepalive_s,
            clean_start=False,
            properties=props,
        )
    else:
        client.connect_async(settings.host, settings.port, keepalive=settings.keepalive_s)
    if settings.tls and settings.tls_insecure:
        log.warning("TLS without server verification (SHOPFLOOR_MQTT__TLS_INSECURE=true)")
    log.info("connecting to MQTT broker %s, MQTT %s", settings.describe(), settings.protocol)


def unreachable(settings: MqttSettings, timeout_s: float = 5.0) -> str | None:
    """Why the broker cannot be reached (TCP, and the TLS handshake when TLS is on), or None.

    For commands that cannot do without the broker: they say so at once instead of letting
    paho retry in the background. A client certificate the broker refuses shows only at connect
    (TLS 1.3 refuses it after the handshake).
    """
    try:
        with socket.create_connection((settings.host, settings.port), timeout=timeout_s) as sock:
            context = settings.ssl_context()
            if context is not None:
                context.wrap_socket(sock, server_hostname=settings.host).close()
    except ssl.SSLCertVerificationError as exc:
        trust = f"{_var('ca_file')} names the CA that signed it"
        return f"the broker's TLS certificate is not trusted: {exc.verify_message} ({trust})"
    except ssl.SSLError as exc:
        return f"TLS handshake failed: {exc}"
    except OSError as exc:
        return str(exc)
    return None

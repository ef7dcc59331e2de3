"""MQTT connection settings and the paho client factory shared by every service."""

from __future__ import annotations

import logging
import socket
from typing import Literal
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import BaseModel, Field, SecretStr, field_validator

log = logging.getLogger(__name__)


class MqttSettings(BaseModel):
    """Where the broker is and how to talk to it."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    protocol: Literal["5", "3.1.1"] = "5"
    client_id: str = ""
    # how many unacknowledged QoS 1 messages the broker may send us at once (MQTT 5)
    receive_maximum: int = Field(default=5000, ge=1, le=65535)
    keepalive_s: int = Field(default=30, ge=5)
    # how long the broker keeps our session (and queues for it) while we are away (MQTT 5)
    session_expiry_s: int = Field(default=86_400, ge=0, le=4_294_967_295)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if "://" in value:
            raise ValueError("give the broker host name only, e.g. 127.0.0.1 (port is separate)")
        return value


def parse_broker_url(url: str) -> tuple[str, int]:
    """`mqtt://host:port` to (host, port)."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"broker URL {url!r} must look like mqtt://host:1883")
    return parts.hostname, parts.port or 1883


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
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_queued_messages_set(0)
    # paho retries on its own, silently: say so each time (at most every 30 s)
    client.on_connect_fail = lambda _c, _u: log.warning(
        "%s cannot reach the MQTT broker at %s:%d; retrying",
        client_id,
        settings.host,
        settings.port,
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
    log.info(
        "connecting to MQTT broker %s:%d (MQTT %s)", settings.host, settings.port, settings.protocol
    )


def unreachable(host: str, port: int, timeout_s: float = 5.0) -> str | None:
    """Why nothing accepts a TCP connection at host:port, or None when something does.

    For commands that cannot do without the broker: they say so at once instead of letting
    paho retry in the background.
    """
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        return str(exc)
    return None

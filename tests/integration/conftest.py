"""Tracker fixtures: a migrated database, a test clock, a bus, a tracker and its HTTP API, a
machine publishing events."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr
from sqlalchemy import Engine

from shopfloor.mqtt import MqttSettings
from tests.clock import Clock
from tests.services import Mosquitto
from tracker.adapters.database import make_engine, session_factory
from tracker.adapters.migrations import create_schema, upgrade
from tracker.adapters.unit_of_work import SqlUnits
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.service_layer.bus import MessageBus
from tracker.settings import TrackerSettings


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a freshly migrated SQLite or PostgreSQL database."""
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus(engine: Engine, clock: Clock) -> MessageBus:
    return MessageBus(SqlUnits(session_factory(engine)), clock)


@pytest.fixture
def make_tracker(database_url: str, mosquitto: Mosquitto) -> Callable[..., Tracker]:
    """Build a Tracker on a freshly migrated database and the test broker (not started), on
    the given clock (real time without one)."""

    def make(api_key: str, clock: Callable[[], datetime] | None = None, **settings: Any) -> Tracker:
        upgrade(database_url)
        mqtt = MqttSettings(
            host=mosquitto.host, port=mosquitto.port, client_id=f"test-{secrets.token_hex(4)}"
        )
        config = TrackerSettings(
            database_url=database_url, api_key=SecretStr(api_key), mqtt=mqtt, **settings
        )
        return Tracker(config) if clock is None else Tracker(config, clock=clock)

    return make


@pytest.fixture
def machine(mosquitto: Mosquitto) -> Iterator[mqtt.Client]:
    """A client publishing machine events to the test broker."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"m-{secrets.token_hex(4)}")
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TestClient]:
    """The tracker's HTTP API; entering it starts the tracker (MQTT, scheduler) and stops it."""
    with TestClient(create_app(tracker)) as test_client:
        yield test_client

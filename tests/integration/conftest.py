"""Fixtures for the tracker's storage tests: a migrated database, a test clock and a bus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.clock import Clock
from tracker.adapters.database import create_schema, make_engine, session_factory
from tracker.service_layer.bus import MessageBus


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
    return MessageBus(session_factory(engine), clock)

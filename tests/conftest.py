"""Session fixtures that start real servers for integration and end-to-end tests; `clean_env`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import Databases
from tests.services import (
    InfluxDB1,
    Mosquitto,
    Restartable,
    Victoria,
    fresh_postgres_database,
    run_influxdb1,
    run_mosquitto,
    run_restartable_influxdb1,
    run_restartable_mosquitto,
    run_victoria,
)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A Mosquitto broker on a free port, shared by the session."""
    with run_mosquitto(tmp_path_factory.mktemp("mosquitto")) as broker:
        yield broker


@pytest.fixture(scope="session")
def influxdb1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB1]:
    """An InfluxDB 1.x `influxd` on free ports, shared by the session."""
    with run_influxdb1(tmp_path_factory.mktemp("influxdb1")) as server:
        yield server


@pytest.fixture(scope="module")
def restartable_mosquitto(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Restartable[Mosquitto]]:
    """A Mosquitto with persistence that a module's tests may kill and restart (same port)."""
    with run_restartable_mosquitto(
        tmp_path_factory.mktemp("mosquitto-restartable"), persistence=True
    ) as broker:
        yield broker


@pytest.fixture(scope="module")
def restartable_influxdb1(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Restartable[InfluxDB1]]:
    """An `influxd` that a module's tests may kill and restart (same ports, same data)."""
    with run_restartable_influxdb1(tmp_path_factory.mktemp("influxdb1-restartable")) as server:
        yield server


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Victoria]:
    """A VictoriaMetrics server on a free port, shared by the session."""
    with run_victoria(tmp_path_factory.mktemp("victoria")) as server:
        yield server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database created for this session and dropped after."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """The session's fresh databases: migrated once, then copied per test (tests/databases.py)."""
    factory = Databases(tmp_path_factory.mktemp("databases"))
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, databases: Databases
) -> Iterator[str]:
    """SQLAlchemy URL of a database of its own for one test, at the schema head and holding no
    rows: SQLite file, then PostgreSQL."""
    yield from _fresh(request.param, tmp_path, databases, migrated=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, databases: Databases
) -> Iterator[str]:
    """SQLAlchemy URL of an empty database (no tables) for one test: SQLite file, then
    PostgreSQL (the migrations' own tests)."""
    yield from _fresh(request.param, tmp_path, databases, migrated=False)


def _fresh(kind: str, tmp_path: Path, databases: Databases, migrated: bool) -> Iterator[str]:
    if kind == "sqlite":
        yield databases.sqlite(tmp_path / "test.db", migrated)
    else:
        with databases.postgres(migrated) as url:
            yield url


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SHOPFLOOR_* variable from the developer's shell leaks into the settings under test."""
    for name in list(os.environ):
        if name.upper().startswith("SHOPFLOOR_"):
            monkeypatch.delenv(name)
    return monkeypatch

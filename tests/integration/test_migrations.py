"""The tracker's Alembic migrations on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tracker.adapters import orm
from tracker.adapters.database import make_engine
from tracker.adapters.migrations import (
    NotMigratedError,
    alembic_config,
    check_migrated,
    head_revision,
    upgrade,
)
from tracker.bootstrap import Tracker
from tracker.settings import TrackerSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), orm.metadata))
    finally:
        engine.dispose()


def test_models_and_migrations_agree(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    assert _differences(empty_database_url) == []


def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    head = head_revision()

    assert upgrade(empty_database_url) == (None, head)
    assert upgrade(empty_database_url) == (head, head)
    assert _differences(empty_database_url) == []


def test_every_migration_downgrades_to_an_empty_database_and_back(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()

    upgrade(empty_database_url)
    assert _differences(empty_database_url) == []


def test_tracker_refuses_an_unmigrated_database_and_names_the_command(
    empty_database_url: str,
) -> None:
    url = make_url(empty_database_url)
    if url.drivername.startswith("postgresql"):
        url = url.set(password="pw-never-shown")  # trust auth ignores it; the message must hide it
    settings = TrackerSettings(
        database_url=url.render_as_string(hide_password=False), api_key="k" * 32
    )

    with pytest.raises(NotMigratedError) as refused:
        Tracker(settings)

    message = str(refused.value)
    assert "is not migrated (at none, head " in message
    assert "run 'shopfloor migrate'" in message
    assert "pw-never-shown" not in message


def test_check_passes_once_migrated(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        check_migrated(engine)
    finally:
        engine.dispose()


def test_a_revision_from_a_newer_release_is_named_as_such(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(NotMigratedError, match="9999, which this version .* does not know"):
            check_migrated(engine)
    finally:
        engine.dispose()


def test_tables_made_before_migrations_are_stamped_when_they_match(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        orm.metadata.create_all(engine)  # how the tracker made its schema before migrations
        with pytest.raises(NotMigratedError):
            check_migrated(engine)

        assert upgrade(empty_database_url) == (None, head_revision())
        check_migrated(engine)
    finally:
        engine.dispose()


def test_tables_made_before_migrations_that_differ_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE orders (order_id VARCHAR(64) PRIMARY KEY)"))
        with pytest.raises(NotMigratedError, match="no migration history, and they differ"):
            upgrade(url)
    finally:
        engine.dispose()


def _shopfloor(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SHOPFLOOR_DATABASE_URL": url, "SHOPFLOOR_API_KEY": "k" * 32}
    return subprocess.run(
        [sys.executable, "-m", "launcher", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_shopfloor_tracker_exits_2_on_an_unmigrated_database_until_migrated(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    refused = _shopfloor("tracker", url=url)
    assert refused.returncode == 2, refused.stderr
    assert "is not migrated (at none, head" in refused.stderr
    assert "run 'shopfloor migrate'" in refused.stderr
    assert "Traceback" not in refused.stderr

    first = _shopfloor("migrate", url=url)
    again = _shopfloor("migrate", url=url)
    assert first.returncode == 0, first.stderr
    assert f"migrated from empty to revision {head_revision()}" in first.stdout
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout

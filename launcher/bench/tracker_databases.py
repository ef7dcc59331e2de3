"""Fresh, migrated databases for the tracker bench: a SQLite file and a PostgreSQL database."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from tracker.adapters.migrations import upgrade

from ..services.postgres import fresh_postgres_database


@contextlib.contextmanager
def fresh_sqlite(workdir: Path) -> Iterator[str]:
    """A new SQLite file, migrated to the head."""
    url = f"sqlite:///{workdir / f'tracker-{uuid.uuid4().hex[:8]}.db'}"
    upgrade(url)
    yield url


@contextlib.contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database, migrated to the head; dropped (FORCE) afterwards."""
    with fresh_postgres_database(server_url, prefix="shopfloor_bench") as url:
        upgrade(url)
        yield url

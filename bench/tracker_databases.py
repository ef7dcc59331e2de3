"""Fresh, migrated databases for the tracker bench: a SQLite file and a PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from tracker.adapters.migrations import upgrade

PG_SERVER_ENV = "SHOPFLOOR_TEST_PG_URL"
DEFAULT_PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_server_url() -> str:
    """The PostgreSQL server: $SHOPFLOOR_TEST_PG_URL or the local trust default."""
    return os.environ.get(PG_SERVER_ENV) or DEFAULT_PG_SERVER


@contextlib.contextmanager
def fresh_sqlite(workdir: Path) -> Iterator[str]:
    """A new SQLite file, migrated to the head."""
    url = f"sqlite:///{workdir / f'tracker-{uuid.uuid4().hex[:8]}.db'}"
    upgrade(url)
    yield url


@contextlib.contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database, migrated to the head; dropped (FORCE) afterwards."""
    base = make_url(server_url)
    admin_url = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"shopfloor_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"cannot reach PostgreSQL at {base.render_as_string()} ({exc}); "
            f"pass --pg-server or set {PG_SERVER_ENV}"
        ) from exc
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = base.set(drivername="postgresql+psycopg", database=name)
            yield_url = url.render_as_string(hide_password=False)
            upgrade(yield_url)
            yield yield_url
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

"""Fresh PostgreSQL databases on a server given by URL, dropped when done."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from .processes import ServiceError

PG_SERVER_ENV = "SHOPFLOOR_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_server_url() -> str:
    """The PostgreSQL server of tests and benchmarks: $SHOPFLOOR_TEST_PG_URL or local trust."""
    return os.environ.get(PG_SERVER_ENV) or DEFAULT_PG_URL


@contextlib.contextmanager
def fresh_postgres_database(
    server_url: str | None = None, prefix: str = "shopfloor_test"
) -> Iterator[str]:
    """Create a uniquely named database, yield its SQLAlchemy URL, then drop it (FORCE)."""
    base = make_url(server_url or postgres_server_url())
    admin_url = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise ServiceError(
            f"cannot reach PostgreSQL at {base.render_as_string()} ({exc}); "
            f"run scripts/test, or set {PG_SERVER_ENV} (the tracker bench: --pg-server)"
        ) from exc
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

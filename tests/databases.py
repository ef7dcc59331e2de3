"""Fresh databases for one test, empty or at the schema head, made in milliseconds.

Migrating costs about a second a database, and `DROP DATABASE` on PostgreSQL forces a
checkpoint (another second). So each test session migrates once, into a SQLite file it copies
and a PostgreSQL database it clones (`CREATE DATABASE ... TEMPLATE`), and a background thread
drops the PostgreSQL databases the tests are done with; the session waits for it at the end.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from tests.services import ServiceError, postgres_server_url
from tracker.adapters.migrations import upgrade

log = logging.getLogger(__name__)
PREFIX = "shopfloor_test"


class Databases:
    """The session's factory of fresh databases; `close` drops what is left."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._base = make_url(postgres_server_url())
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._drops: queue.Queue[str | None] = queue.Queue()
        self._dropper: threading.Thread | None = None
        self._lock = threading.Lock()

    def sqlite(self, path: Path, migrated: bool) -> str:
        """URL of a new SQLite file at `path`: empty, or a copy of the migrated template."""
        if migrated:
            shutil.copyfile(self._migrated_sqlite(), path)
        return f"sqlite:///{path}"

    @contextlib.contextmanager
    def postgres(self, migrated: bool) -> Iterator[str]:
        """URL of a new PostgreSQL database (empty, or a clone of the migrated template),
        dropped in the background after."""
        template = self._migrated_postgres() if migrated else None
        name = self._create(template)
        try:
            yield self._url(name)
        finally:
            self._drop_later(name)

    def close(self) -> None:
        """Wait for the pending drops, then drop the template."""
        if self._dropper is not None:
            self._drops.put(None)
            self._dropper.join()
        if self._pg_template is not None:
            with self._admin() as admin:
                _drop(admin, self._pg_template)

    def _migrated_sqlite(self) -> Path:
        with self._lock:
            if self._sqlite_template is None:
                path = self._workdir / "template.db"
                upgrade(f"sqlite:///{path}")
                self._sqlite_template = path
            return self._sqlite_template

    def _migrated_postgres(self) -> str:
        with self._lock:
            if self._pg_template is None:
                name = self._create(None, kind="template")
                upgrade(self._url(name))  # disposes its engine: a template needs no session on it
                self._pg_template = name
            return self._pg_template

    def _url(self, name: str) -> str:
        url: URL = self._base.set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        admin_url = self._base.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            return psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise ServiceError(
                f"cannot reach PostgreSQL at {self._base.render_as_string()} ({exc}); "
                "run scripts/test, or set SHOPFLOOR_TEST_PG_URL"
            ) from exc

    def _create(self, template: str | None, kind: str = "") -> str:
        name = "_".join(p for p in (PREFIX, kind, str(os.getpid()), uuid.uuid4().hex[:8]) if p)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._admin() as admin:
            admin.execute(statement)
        return name

    def _drop_later(self, name: str) -> None:
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_all, name="db-dropper", daemon=True)
            self._dropper.start()
        self._drops.put(name)

    def _drop_all(self) -> None:
        with self._admin() as admin:
            while (name := self._drops.get()) is not None:
                try:
                    _drop(admin, name)
                except psycopg.Error as exc:  # a leftover database, not a failed test
                    log.warning("could not drop database %s: %s", name, exc)


def _drop(admin: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

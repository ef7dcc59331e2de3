"""The engine and the session factories (writer, read-only): SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from . import orm

# execution option of the engine behind read-only sessions
READ_ONLY = "shopfloor_read_only"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so threads can share it.

    SQLite transactions begin IMMEDIATE: they take the write lock before their first read, so
    two threads cannot both read an order as on track and both raise its alert (what row
    locks do on PostgreSQL).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: object) -> None:
            dbapi_conn.isolation_level = None  # the driver's own BEGIN would be DEFERRED
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # reads (a customer's poll, the board) need no write lock: a plain BEGIN lets
            # them run beside the writer in WAL mode instead of queueing behind it
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions of the writer (units of work): on SQLite they begin IMMEDIATE."""
    orm.start_mappers()
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only: on SQLite their transactions take no write lock."""
    return session_factory(engine.execution_options(**{READ_ONLY: True}))

"""The tracker's schema migrations (Alembic, shipped in the package): upgrade and check.

The Alembic config is built here in code, so no alembic.ini is needed. A new revision, after a
change to `tracker/adapters/orm.py`, is generated against a database migrated to the head::

    from alembic import command
    from tracker.adapters.migrations import alembic_config, upgrade
    upgrade("sqlite:///rev.db")
    command.revision(alembic_config("sqlite:///rev.db"), "what changed", autogenerate=True,
                     rev_id="0002")

then reviewed by hand (batch operations for SQLite; no imports from the ORM).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from tracker.adapters import orm
from tracker.adapters.database import make_engine

MIGRATE_COMMAND = "shopfloor migrate"


class NotMigratedError(RuntimeError):
    """The database is not at the head revision; the message names the command that fixes it."""


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged scripts, on `url` or an open `connection`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        # configparser would read a percent-encoded password as interpolation
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision this version of the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, None if it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_engine(engine: Engine) -> tuple[str | None, str]:
    """Migrate the database behind `engine` to the head; returns (revision before, head).

    A database whose tables were created before migrations existed (by `create_all`) and match
    the models exactly is stamped at the head instead of being created again.
    """
    head = head_revision()
    with engine.begin() as conn:
        before = current_revision(conn)
        cfg = alembic_config(connection=conn)
        if before is None and inspect(conn).has_table(orm.orders.name):
            _adopt(conn)
            command.stamp(cfg, "head")
        else:
            command.upgrade(cfg, "head")
    return before, head


def create_schema(engine: Engine) -> None:
    """Bring the schema to the head revision by running the migrations (tests, the demo)."""
    upgrade_engine(engine)


def _adopt(conn: Connection) -> None:
    diffs = compare_metadata(MigrationContext.configure(conn), orm.metadata)
    if diffs:
        url = conn.engine.url.render_as_string(hide_password=True)
        raise NotMigratedError(
            f"database {url} has tracker tables but no migration history, and they differ "
            f"from this version's models ({len(diffs)} differences, first: {diffs[0]}); "
            "migrate it by hand or start from an empty database"
        )


def upgrade(url: str) -> tuple[str | None, str]:
    """Migrate the database at `url` to the head; returns (revision before, head)."""
    engine = make_engine(url)
    try:
        return upgrade_engine(engine)
    finally:
        engine.dispose()


def check_migrated(engine: Engine) -> None:
    """Raise NotMigratedError unless the database is at the head revision."""
    head = head_revision()
    with engine.connect() as conn:
        current = current_revision(conn)
    if current == head:
        return
    url = engine.url.render_as_string(hide_password=True)
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current is not None and current not in known:
        raise NotMigratedError(
            f"database {url} is at revision {current}, which this version of shopfloor does not "
            f"know (head {head}): it was migrated by a newer release; run that release"
        )
    raise NotMigratedError(
        f"database {url} is not migrated (at {current or 'none'}, head {head}): "
        f"run '{MIGRATE_COMMAND}'"
    )

"""Which database errors are the database's trouble (wait and retry), not a message's."""

from __future__ import annotations

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# the database is down, locked or the connection dropped: worth trying the same batch again
_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
# PostgreSQL's undefined table and column: the schema is not what the code expects (a
# migration missing, a table renamed), which no message is at fault for (SQLite says so with
# an OperationalError)
_SCHEMA_MISSING = frozenset({"42P01", "42703"})


def transient(exc: BaseException) -> bool:
    """Whether `exc` is the database's trouble, not the message's: wait and try again."""
    if isinstance(exc, _TRANSIENT):
        return True
    return isinstance(exc, ProgrammingError) and (
        getattr(exc.orig, "sqlstate", None) in _SCHEMA_MISSING
    )

"""`shopfloor tracker`, `shopfloor migrate` and `shopfloor hash-key`: the tracker's commands."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from tracker.adapters.leadership import AnotherInstanceError
from tracker.adapters.migrations import NotMigratedError
from tracker.auth.api_keys import hash_key
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.entrypoints.http_server import Server
from tracker.migrate import MigrateSettings, migrate
from tracker.plant import PlantFileError
from tracker.settings import TrackerSettings

from .errors import file_error, settings_error
from .signals import let_uvicorn_exit_cleanly

AppHook = Callable[[FastAPI], FastAPI]


def serve_tracker(extend: AppHook | None = None) -> int:
    """Serve the tracker (settings from SHOPFLOOR_*) with uvicorn until a signal; the exit code.

    `extend` may add routes to the app before it is served (the API bench's trivial routes).
    """
    try:
        settings = TrackerSettings()  # type: ignore[call-arg]  # api_key comes from the env
    except ValidationError as exc:
        return settings_error(exc)
    try:
        tracker = Tracker(settings)
    except (NotMigratedError, SQLAlchemyError) as exc:  # un-migrated or unreachable database
        sys.stderr.write(f"shopfloor tracker: {exc}\n")
        return 2
    except PlantFileError as exc:
        return file_error("shopfloor tracker: bad plant file", exc)
    try:
        tracker.leadership.claim()
    except AnotherInstanceError as exc:
        tracker.engine.dispose()
        sys.stderr.write(f"shopfloor tracker: {exc}\n")
        return 2
    app = create_app(tracker)
    if extend is not None:
        app = extend(app)
    let_uvicorn_exit_cleanly()
    config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None)
    server = Server(config, tracker.changes)  # ends the board's event streams on a stop
    server.run()
    return 0 if server.started else 3  # 3: uvicorn's code for a failed start (port taken...)


def cmd_tracker(_args: argparse.Namespace) -> int:
    """`shopfloor tracker`: the order tracker and its HTTP API."""
    return serve_tracker()


def cmd_hash_key(_args: argparse.Namespace) -> int:
    """Print the SHA-256 of an API key read from stdin, for SHOPFLOOR_API_KEYS."""
    # read, not an argument: the key stays out of the shell history and the process list
    key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    key = key.rstrip("\r\n")
    if len(key) < 16:
        sys.stderr.write("an API key needs at least 16 characters\n")
        return 2
    sys.stdout.write(hash_key(key) + "\n")
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    """`shopfloor migrate`: bring the database to this version's schema; print what was done."""
    try:
        settings = MigrateSettings()
    except ValidationError as exc:
        return settings_error(exc)
    try:
        done = migrate(settings)
    except (NotMigratedError, SQLAlchemyError) as exc:
        sys.stderr.write(f"shopfloor migrate: {exc}\n")
        return 1
    print(done)  # noqa: T201
    return 0

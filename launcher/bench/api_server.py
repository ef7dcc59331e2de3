"""The API bench's server: `shopfloor tracker` itself, with two trivial routes added for the bench.

Run as `python -m launcher.bench.api_server` (settings from SHOPFLOOR_* as for `shopfloor
tracker`), it serves the tracker through the command's own `serve_tracker`, with the app gaining
`GET /bench/ceiling` (a `def` route answering a constant, the shape of `/healthz`: FastAPI's
thread pool, validation and JSON) and `GET /bench/ceiling-async` (an `async def` one: no thread
pool), so uvicorn serves it exactly as in production (same options, loop, HTTP implementation,
logging).
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from shopfloor import logs

from ..services.processes import HOST, free_port, server
from ..settings import LauncherSettings
from ..tracker_command import serve_tracker
from .broker import Broker

CEILING = "/bench/ceiling"
CEILING_ASYNC = "/bench/ceiling-async"
START_TIMEOUT_S = 120.0  # the tracker plans every open order before it listens


@dataclass(frozen=True)
class Server:
    """A running tracker: where it listens, its process id and its supervisor key."""

    url: str
    pid: int
    api_key: str
    log_path: Path


def add_trivial_routes(app: FastAPI) -> FastAPI:
    """The framework's ceiling on this server: routes that do no work of their own."""

    @app.get(CEILING)
    def ceiling() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(CEILING_ASYNC)
    async def ceiling_async() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve() -> int:
    """The server process: the product's `shopfloor tracker` with the bench's routes added."""
    logs.configure(LauncherSettings().log_level)
    return serve_tracker(extend=add_trivial_routes)


def _environment(
    database_url: str, broker: Broker | None, port: int, api_key: str
) -> dict[str, str]:
    """The parent's environment without its SHOPFLOOR_* settings, then the bench's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPFLOOR_")}
    # nothing listens on a fresh free port: without a broker the tracker's MQTT client retries
    host, mqtt_port = (broker.host, broker.port) if broker else (HOST, free_port())
    env.update(
        SHOPFLOOR_DATABASE_URL=database_url,
        SHOPFLOOR_API_KEY=api_key,
        SHOPFLOOR_API_HOST=HOST,
        SHOPFLOOR_API_PORT=str(port),
        SHOPFLOOR_MQTT__HOST=host,
        SHOPFLOOR_MQTT__PORT=str(mqtt_port),
        SHOPFLOOR_MQTT__CLIENT_ID=f"bench-api-{secrets.token_hex(4)}",
        # no session left behind on a shared broker
        SHOPFLOOR_MQTT__SESSION_EXPIRY_S="0",
        SHOPFLOOR_LOG_LEVEL="INFO",
    )
    return env


@contextlib.contextmanager
def tracker_server(
    database_url: str,
    broker: Broker | None,
    cpus: set[int],
    log_path: Path,
    settings: dict[str, str],
) -> Iterator[Server]:
    """Start the server pinned to `cpus`; yield once `/healthz` answers; stop it (SIGTERM)."""
    port, api_key = free_port(), secrets.token_urlsafe(24)
    env = _environment(database_url, broker, port, api_key)
    env.update(settings)
    argv = [sys.executable, "-m", "launcher.bench.api_server"]
    url = f"http://{HOST}:{port}"
    ready = functools.partial(_healthy, url)
    options = {"env": env, "cpus": cpus, "timeout_s": START_TIMEOUT_S}
    with server("the tracker", argv, log_path, port, ready, **options) as proc:
        yield Server(url, proc.pid, api_key, log_path)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(serve())

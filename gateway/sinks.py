"""Outputs with the connect/write(batch)/close shape: InfluxDB v2 API, InfluxDB v1 API, SQLite."""

from __future__ import annotations

import gzip
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

import httpx
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from shopfloor import telemetry_store

from .settings import InfluxSettings

log = logging.getLogger(__name__)


class SinkUnavailable(Exception):
    """The store did not take the batch but may later (down, 5xx, 429): retry, keep the data."""


class SinkRejected(Exception):
    """The store refused the batch's content (4xx): retrying it as it is cannot succeed."""


class Sink(Protocol):
    """Where batches of line-protocol points go."""

    def connect(self) -> None: ...

    def write(self, lines: list[str]) -> None: ...

    def close(self) -> None: ...


# only these say "this content is wrong"; anything else (5xx, 429, a missing database or bucket,
# bad credentials) is a state of the store that can be fixed, so the data is kept and retried
_CONTENT_REJECTED = {400, 413, 422}


def _classify(status: int, body: str) -> Exception:
    if status in _CONTENT_REJECTED:
        return SinkRejected(f"HTTP {status}: {body[:300]}")
    return SinkUnavailable(f"HTTP {status}: {body[:300]}")


class InfluxV2Sink:
    """InfluxDB 2.x/3.x/Cloud/1.8+ through influxdb-client's synchronous v2 write API."""

    def __init__(self, settings: InfluxSettings) -> None:
        self._settings = settings
        self._client: InfluxDBClient | None = None

    def connect(self) -> None:
        token = self._settings.token.get_secret_value() if self._settings.token else ""
        self._client = InfluxDBClient(
            url=self._settings.url,
            token=token,
            org=self._settings.org,
            timeout=int(self._settings.timeout_s * 1000),
            verify_ssl=self._settings.verify_tls,
            enable_gzip=True,
        )
        self._write = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: list[str]) -> None:
        try:
            self._write.write(
                bucket=self._settings.bucket,
                org=self._settings.org,
                record="\n".join(lines),
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]
            )
        except ApiException as exc:
            raise _classify(exc.status or 0, str(exc.body)) from None
        except (Urllib3Error, OSError) as exc:
            raise SinkUnavailable(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]


class InfluxV1Sink:
    """InfluxDB 1.x before 1.8, which has only the v1 `/write` endpoint."""

    def __init__(self, settings: InfluxSettings) -> None:
        self._settings = settings
        self._http: httpx.Client | None = None

    def connect(self) -> None:
        s = self._settings
        auth = (
            (s.username, s.password.get_secret_value() if s.password else "")
            if s.username
            else None
        )
        self._http = httpx.Client(
            base_url=s.url, auth=auth, timeout=s.timeout_s, verify=s.verify_tls
        )

    def write(self, lines: list[str]) -> None:
        assert self._http is not None, "connect() first"
        params = {"db": self._settings.database, "precision": "ns"}
        if self._settings.retention_policy:
            params["rp"] = self._settings.retention_policy
        body = gzip.compress("\n".join(lines).encode(), compresslevel=1)
        try:
            response = self._http.post(
                "/write", params=params, content=body, headers={"Content-Encoding": "gzip"}
            )
        except httpx.HTTPError as exc:
            raise SinkUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 204:
            raise _classify(response.status_code, response.text)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


class SqliteSink:
    """The embedded telemetry store for the demo (layout: `shopfloor.telemetry_store`)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def connect(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self._path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in telemetry_store.SCHEMA:
            self._db.execute(statement)
        self._db.commit()

    def write(self, lines: list[str]) -> None:
        assert self._db is not None, "connect() first"
        with self._lock:
            try:
                telemetry_store.write_batch(self._db, lines)
            except sqlite3.OperationalError as exc:
                raise SinkUnavailable(str(exc)) from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def make_sink(settings: InfluxSettings) -> Sink:
    """The sink the settings ask for."""
    if settings.sink == "influx2":
        return InfluxV2Sink(settings)
    if settings.sink == "influx1":
        return InfluxV1Sink(settings)
    return SqliteSink(settings.sqlite_path)

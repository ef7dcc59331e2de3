"""The two stores the bench writes to, seen only from outside: env for the gateway, point counts."""

from __future__ import annotations

from typing import Protocol

import httpx

DATABASE = "bench"  # InfluxDB 1.x database; also the v2 org and bucket
TOKEN = "bench-token"  # VictoriaMetrics ignores it; the gateway requires one for influx2
ALL_MS = 30 * 86_400_000  # a window that holds every reading of a case


class Store(Protocol):
    """A telemetry store the gateway and the naive bridge write to and the bench counts in."""

    url: str
    kind: str

    def prepare(self) -> None: ...

    def gateway_env(self) -> dict[str, str]: ...

    def count(self, site: str, end_ms: int, window_ms: int = ALL_MS) -> int: ...


class Influx1Store:
    """InfluxDB 1.x through its v1 HTTP API (`/write`, `/query`)."""

    kind = "v1"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=30)

    def prepare(self) -> None:
        """Create the bench database (a no-op if it exists)."""
        self._http.post("/query", params={"q": f'CREATE DATABASE "{DATABASE}"'}).raise_for_status()

    def gateway_env(self) -> dict[str, str]:
        return {
            "SHOPFLOOR_INFLUX__SINK": "influx1",
            "SHOPFLOOR_INFLUX__URL": self.url,
            "SHOPFLOOR_INFLUX__DATABASE": DATABASE,
        }

    def count(self, site: str, end_ms: int, window_ms: int = ALL_MS) -> int:
        """Readings of `site` (field `v`) with time in (end_ms - window_ms, end_ms]."""
        since = end_ms - window_ms
        q = (
            f"SELECT count(v) FROM telemetry WHERE site = '{site}'"
            f" AND time > {since}ms AND time <= {end_ms}ms"
        )
        response = self._http.post("/query", params={"db": DATABASE, "q": q})
        response.raise_for_status()
        series = response.json()["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0


class VictoriaStore:
    """VictoriaMetrics, written through the InfluxDB v2 write API and counted with MetricsQL."""

    kind = "v2"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=30)

    def prepare(self) -> None:
        """Nothing to create: VictoriaMetrics takes any bucket."""

    def gateway_env(self) -> dict[str, str]:
        return {
            "SHOPFLOOR_INFLUX__SINK": "influx2",
            "SHOPFLOOR_INFLUX__URL": self.url,
            "SHOPFLOOR_INFLUX__TOKEN": TOKEN,
            "SHOPFLOOR_INFLUX__ORG": DATABASE,
            "SHOPFLOOR_INFLUX__BUCKET": DATABASE,
        }

    def count(self, site: str, end_ms: int, window_ms: int = ALL_MS) -> int:
        """Samples of `telemetry_v` (measurement `telemetry`, field `v`) in the same window."""
        # bench timestamps are hours old, so neither -search.latencyOffset nor a cache hides them
        self._http.get("/internal/force_flush").raise_for_status()
        query = f'sum(count_over_time(telemetry_v{{site="{site}"}}[{window_ms}ms]))'
        params = {"query": query, "time": f"{end_ms / 1000:.3f}", "nocache": "1"}
        response = self._http.get("/api/v1/query", params=params)
        response.raise_for_status()
        result = response.json()["data"]["result"]
        return int(float(result[0]["value"][1])) if result else 0


def make_store(kind: str, url: str) -> Store:
    """The store for `--store v1|v2` at `url`."""
    return Influx1Store(url) if kind == "v1" else VictoriaStore(url)

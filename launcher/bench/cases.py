"""The measured cases: the mosquitto_sub ceiling, the naive bridge and the real gateway."""

from __future__ import annotations

import time
from pathlib import Path

from .broker import (
    SESSION_QUEUE_LIMIT,
    Broker,
    drain_sub_session,
    forget_session,
    open_sub_session,
    publish_backlog,
    telemetry_topic,
)
from .gateway_process import GatewayProcess
from .live import LivePublisher
from .naive_bridge import NaiveBridge, influx1_writer, influx2_writer
from .report import Case
from .running import progress
from .stores import Store

NAIVE_MAX = 2_000  # the naive bridge runs a few hundred messages/s: this gives its rate
STALL_S = 30.0  # no new point in the store for this long: the run has failed
TAIL_MS = 1_000  # the newest readings of each series, probed cheaply until they are stored
# the big backlog is topped up between these bounds, below what Mosquitto can deliver
STANDING_MAX = 100_000
STANDING_MIN = 50_000
assert STANDING_MAX < SESSION_QUEUE_LIMIT


class GatewayBench:
    """The cases, all on one broker and one store, each on its own site tag and session."""

    def __init__(self, broker: Broker, store: Store, workdir: Path) -> None:
        self.broker, self.store, self.workdir = broker, store, workdir
        self._run = f"{int(time.time()) % 100_000}"
        # every series ends here, one reading per ms; hours old, so no store hides them as new
        self.end_ms = int(time.time() * 1000) - 2 * 3_600_000

    def _site(self, case: str) -> str:
        return f"{case}-{self._run}"

    def ceiling(self, messages: int) -> Case:
        """mosquitto_sub (C) draining the backlog from its persistent session."""
        site, client_id = self._site("ceiling"), f"bench-ceiling-{self._run}"
        topic_filter = telemetry_topic(site, "+")
        open_sub_session(self.broker, client_id, topic_filter)
        publish_backlog(self.broker, site, messages, 1, self.end_ms, self.workdir)
        rate = drain_sub_session(self.broker, client_id, topic_filter, messages)
        forget_session(self.broker, client_id)
        return Case(
            "ceiling: broker -> mosquitto_sub (C)",
            messages,
            messages,
            messages / rate,
            "received, not stored",
        )

    def naive(self, messages: int) -> Case:
        """A paho callback with one synchronous HTTP write per message."""
        site, client_id = self._site("naive"), f"bench-naive-{self._run}"
        if self.store.kind == "v1":
            writer = influx1_writer(self.store.url)
        else:
            writer = influx2_writer(self.store.url)
        bridge = NaiveBridge(self.broker, client_id, telemetry_topic(site, "+"), writer)
        bridge.run(0, 0)
        publish_backlog(self.broker, site, messages, 1, self.end_ms, self.workdir)
        seconds = bridge.run(messages, timeout_s=300)
        forget_session(self.broker, client_id)
        stored = self.store.count(site, self.end_ms)
        if stored != messages:
            raise RuntimeError(f"naive bridge stored {stored} of {messages} readings")
        return Case(
            "naive bridge: 1 HTTP write per message",
            messages,
            messages,
            seconds,
            f"backlog of min(N, {NAIVE_MAX:,}) messages",
        )

    def gateway(
        self, name: str, messages: int, per_message: int = 1, live: int = 0, total: int = 0
    ) -> Case:
        """The real gateway, from connecting to its backlog until the last point is queryable."""
        # live: messages a paho publisher sends meanwhile; total: keep topping the backlog up
        # (between STANDING_MIN and STANDING_MAX) until this many messages went through
        site = self._site(name)
        env = self.gateway_env(site)
        self.open_session(env, site)
        series = publish_backlog(
            self.broker, site, messages, per_message, self.end_ms, self.workdir
        )
        publisher = LivePublisher(self.broker, site, "live", live, self.end_ms)
        gw = GatewayProcess(env, self.workdir / f"gateway-{site}.log")
        try:
            t0 = gw.wait_connected()
            if live:
                publisher.start()
            if total > messages:
                series += self._top_up(site, messages, total, gw)
            t_end = self._wait_stored(site, [*series, live], gw)
            if live:
                publisher.join(60)
        finally:
            gw.stop()
            forget_session(self.broker, f"bench-{site}")
        sent = max(messages, total) + live
        note = f"+ {live:,} live messages at {publisher.rate:,.0f}/s (paho)" if live else ""
        if total > messages:
            note = f"backlog kept at {STANDING_MIN:,}-{STANDING_MAX:,} messages"
        return Case(f"gateway: {name}", sent, sum(series) + live, t_end - t0, note, gw.peak_rss)

    def gateway_env(self, site: str, **extra: str) -> dict[str, str]:
        """A bench gateway's environment: the store, the broker and the window it grants (1,000
        in flight each way), a session and a spool of its own; `extra` adds settings."""
        return {
            **self.store.gateway_env(),
            "SHOPFLOOR_MQTT__HOST": self.broker.host,
            "SHOPFLOOR_MQTT__PORT": str(self.broker.port),
            "SHOPFLOOR_MQTT__MAX_INFLIGHT": "1000",
            "SHOPFLOOR_MQTT__RECEIVE_MAXIMUM": "1000",
            "SHOPFLOOR_MQTT__CLIENT_ID": f"bench-{site}",
            "SHOPFLOOR_SPOOL_DIR": str(self.workdir / f"spool-{site}"),
            **extra,
        }

    def open_session(self, env: dict[str, str], site: str) -> None:
        """The first start creates the persistent session; the broker queues while it is away."""
        first = GatewayProcess(env, self.workdir / f"gateway-{site}-session.log")
        try:
            first.wait_connected()
        finally:
            first.stop()

    def drain(self, env: dict[str, str], site: str, series: list[int]) -> tuple[float, int]:
        """Start the gateway on its queued backlog; (seconds until stored, peak RSS bytes)."""
        gw = GatewayProcess(env, self.workdir / f"gateway-{site}.log")
        try:
            t0 = gw.wait_connected()
            t_end = self._wait_stored(site, series, gw)
        finally:
            gw.stop()
            forget_session(self.broker, f"bench-{site}")
        return t_end - t0, gw.peak_rss

    def _top_up(self, site: str, published: int, total: int, gw: GatewayProcess) -> list[int]:
        """Publish more whenever the backlog falls below STANDING_MIN; series published."""
        series: list[int] = []
        while published < total:
            stored = self.store.count(site, self.end_ms)
            if published - stored < STANDING_MIN:
                chunk = min(STANDING_MAX - (published - stored), total - published)
                machine = f"t{len(series)}-"
                series += publish_backlog(
                    self.broker, site, chunk, 1, self.end_ms, self.workdir, machine
                )
                published += chunk
                progress(f"{published:,} of {total:,} published, RSS {gw.peak_rss >> 20} MB")
            if gw.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {gw.proc.returncode}:\n{gw.log()[-3000:]}")
            time.sleep(1)
        return series

    def _wait_stored(self, site: str, series: list[int], gw: GatewayProcess) -> float:
        """Poll until every reading of `site` is queryable; return when that was first seen."""
        # Counting a whole case costs the store ~0.2 s per million points, CPU the gateway needs
        # on 2 cores; so probe the newest TAIL_MS of each series, and count all only once they
        # are in (or every few seconds, to notice a stall).
        expected = sum(series)
        tail = sum(min(n, TAIL_MS) for n in series)
        last, last_change, next_full = -1, time.monotonic(), time.monotonic() + 5
        while True:
            seen_tail = self.store.count(site, self.end_ms, TAIL_MS) >= tail
            seen_at = time.time()
            if seen_tail or time.monotonic() > next_full:
                count = self.store.count(site, self.end_ms)
                if count >= expected:
                    return seen_at
                if count != last:
                    last, last_change = count, time.monotonic()
                next_full = time.monotonic() + 5
            if time.monotonic() - last_change > STALL_S or gw.proc.poll() is not None:
                state = "exited" if gw.proc.poll() is not None else "stalled"
                raise RuntimeError(
                    f"gateway {state} at {last:,} of {expected:,} readings stored; "
                    f"log {gw.log_path}:\n{gw.log()[-3000:]}"
                )
            time.sleep(0.05)

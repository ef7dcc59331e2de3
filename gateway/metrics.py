"""Prometheus metrics for the gateway, served on their own HTTP port."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .sparkplug.stats import SparkplugStats
from .stats import GatewayStats

_COUNTERS = {
    "messages": "MQTT messages received",
    "points_written": "points the store accepted",
    "batches_written": "batches the store accepted",
    "write_retries": "writes that failed because the store was unavailable",
    "batches_spooled": "batches written to the on-disk spool",
    "batches_replayed": "spooled batches replayed into the store",
    "spool_full": "batches that found the spool full (acknowledgements held back)",
    "ignored": "messages not taken: second copies, our own topics, retained repeats",
    "mapped_events": "machine events made from mapped tags",
}
# Sparkplug host counters: name -> (help, label)
_SPARKPLUG = {
    "births": ("Sparkplug births accepted", "type"),
    "deaths": ("Sparkplug deaths accepted", "type"),
    "rebirth_requests": ("Sparkplug rebirth requests (NCMD) sent", "reason"),
    "dead_letters": ("Sparkplug messages and metrics dead-lettered", "reason"),
}


class GatewayMetrics:
    """A registry per gateway: counters read from GatewayStats (and SparkplugStats when the
    Sparkplug host runs), gauges from callbacks."""

    def __init__(
        self,
        stats: GatewayStats,
        gauges: dict[str, Callable[[], float]],
        sparkplug: SparkplugStats | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_StatsCollector(stats, gauges, sparkplug))
        self.write_seconds = Histogram(
            "shopfloor_gateway_write_seconds",
            "time to write one batch to the store",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.batch_points = Histogram(
            "shopfloor_gateway_batch_points",
            "points per batch written",
            buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000, 50000),
            registry=self.registry,
        )

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """Serve /metrics on `port` from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)


class _StatsCollector(Collector):
    def __init__(
        self,
        stats: GatewayStats,
        gauges: dict[str, Callable[[], float]],
        sparkplug: SparkplugStats | None,
    ) -> None:
        self._stats = stats
        self._gauges = gauges
        self._sparkplug = sparkplug

    def collect(self) -> Iterator[Metric]:
        snap = self._stats.snapshot()
        for name, doc in _COUNTERS.items():
            value = snap[name]
            assert isinstance(value, int)
            yield CounterMetricFamily(f"shopfloor_gateway_{name}", doc, value=value)
        dead = CounterMetricFamily(
            "shopfloor_gateway_dead_letters", "rejected messages and points", labels=["reason"]
        )
        rejected = snap["rejected"]
        assert isinstance(rejected, dict)
        for reason, n in sorted(rejected.items()):
            dead.add_metric([reason], n)
        yield dead
        connects = snap["connects"]
        assert isinstance(connects, int)
        yield CounterMetricFamily(
            "shopfloor_gateway_reconnects", "MQTT reconnections", value=max(0, connects - 1)
        )
        for name, read in self._gauges.items():
            yield GaugeMetricFamily(
                f"shopfloor_gateway_{name}", name.replace("_", " "), value=read()
            )
        if self._sparkplug is not None:
            yield from _sparkplug_families(self._sparkplug)


def _sparkplug_families(stats: SparkplugStats) -> Iterator[Metric]:
    snap = stats.snapshot()
    for name, (doc, label) in _SPARKPLUG.items():
        family = CounterMetricFamily(f"shopfloor_gateway_sparkplug_{name}", doc, labels=[label])
        for value, n in sorted(snap[name].items()):
            family.add_metric([value], n)
        yield family

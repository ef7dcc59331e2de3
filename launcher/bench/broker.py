"""The broker side: sessions, backlogs loaded with mosquitto_pub, the mosquitto_sub ceiling."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .servers import executable

PUBLISHERS = 2  # mosquitto_pub processes loading a backlog side by side
# Mosquitto 2.0.11 numbers a session's queued QoS 1 messages with 16-bit packet ids and, past
# 2 x 65,535 queued for one session, stops delivering it for good (measured: N - 131,070 arrive)
SESSION_QUEUE_LIMIT = 131_070


@dataclass(frozen=True)
class Broker:
    """An MQTT broker address."""

    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """Parse `mqtt://host:port`."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"broker URL {url!r} must look like mqtt://host:1883")
        return cls(parts.hostname, parts.port or 1883)

    def args(self) -> list[str]:
        """Host and port options for the mosquitto command-line clients."""
        return ["-h", self.host, "-p", str(self.port)]


def telemetry_topic(site: str, machine: str) -> str:
    """A contract telemetry topic: shopfloor/{site}/{line}/{machine}/telemetry."""
    return f"shopfloor/{site}/bench/{machine}/telemetry"


def payloads(messages: int, per_message: int, end_ms: int) -> list[str]:
    """JSON payloads of `per_message` readings, one ms apart, the last one at `end_ms`."""
    base_ms = end_ms - messages * per_message + 1
    if per_message == 1:
        return [f'{{"ts": {base_ms + i}, "values": {{"v": {i}.5}}}}' for i in range(messages)]
    out = []
    for m in range(messages):
        first = base_ms + m * per_message
        out.append(
            json.dumps([{"ts": first + j, "values": {"v": j + 0.5}} for j in range(per_message)])
        )
    return out


def publish_backlog(
    broker: Broker,
    site: str,
    messages: int,
    per_message: int,
    end_ms: int,
    workdir: Path,
    machine: str = "m",
    topic_of: Callable[[str, str], str] | None = None,
    payloads_of: Callable[[int, int, int], list[str]] | None = None,
) -> list[int]:
    """Publish at QoS 1 with mosquitto_pub -l (C, one message per line); readings per series.

    By default contract telemetry topics and payloads; `topic_of(site, machine)` and
    `payloads_of(messages, per_message, end_ms)` make others."""
    topic_of, payloads_of = topic_of or telemetry_topic, payloads_of or payloads
    share = -(-messages // PUBLISHERS)
    counts = [c for p in range(PUBLISHERS) if (c := min(share, messages - p * share)) > 0]
    procs, paths = [], []
    for p, count in enumerate(counts):
        # each publisher has its own machine (series), whose readings all end at end_ms
        path = workdir / f"backlog-{site}-{machine}{p}.txt"
        path.write_text("\n".join(payloads_of(count, per_message, end_ms)) + "\n")
        topic = topic_of(site, f"{machine}{p}")
        argv = [executable("mosquitto_pub"), *broker.args(), "-q", "1", "-t", topic, "-l"]
        with path.open("rb") as stdin:
            procs.append(subprocess.Popen(argv, stdin=stdin))
        paths.append(path)
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"mosquitto_pub exited with {proc.returncode}")
    for path in paths:
        path.unlink()
    return [count * per_message for count in counts]


def forget_session(broker: Broker, client_id: str) -> None:
    """Drop the broker's persistent session of `client_id` (connect with a clean session)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


def _sub_argv(broker: Broker, client_id: str, topic_filter: str) -> list[str]:
    return [
        executable("mosquitto_sub"),
        *broker.args(),
        "-c",
        "-i",
        client_id,
        "-q",
        "1",
        "-t",
        topic_filter,
    ]


def open_sub_session(broker: Broker, client_id: str, topic_filter: str) -> None:
    """Create a persistent QoS 1 session for mosquitto_sub that queues while it is away."""
    subprocess.run([*_sub_argv(broker, client_id, topic_filter), "-E"], check=True, timeout=30)


def drain_sub_session(broker: Broker, client_id: str, topic_filter: str, messages: int) -> float:
    """Time mosquitto_sub from start until it has received `messages`; return messages/s."""
    argv = [*_sub_argv(broker, client_id, topic_filter), "-C", str(messages), "-N"]
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=600)
    return messages / (time.perf_counter() - t0)

"""Runs simulated machines in real time (scaled by a speed factor) and publishes over MQTT."""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from pydantic import BaseModel

from shopfloor.contract.payloads import encode
from shopfloor.contract.topics import TopicTemplate
from shopfloor.mqtt import MqttSettings, connect, make_client

from .machine import Job, SimMachine
from .sparkplug_runner import SparkplugEdge

log = logging.getLogger(__name__)


def _event_ids(prefix: str) -> Callable[[], str]:
    """`prefix-1`, `prefix-2`, ...: unique per machine and run."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


class Simulation:
    """Machines working their jobs; a job waits for the order's earlier operations to finish."""

    def __init__(
        self,
        machines: list[str],
        jobs: list[Job],
        seed: int,
        speed: float,
        telemetry_interval_s: float = 1.0,
        site: str = "plant1",
        line: str = "line1",
    ) -> None:
        names = list(dict.fromkeys([*machines, *(j.machine for j in jobs)]))
        rng = random.Random(seed)
        run = uuid.UUID(int=random.getrandbits(128)).hex[
            :8
        ]  # unique per run: event ids never repeat
        self.speed = speed
        self.site, self.line = site, line
        self.machines = []
        for name in names:
            self.machines.append(
                SimMachine(
                    name,
                    random.Random(rng.random()),
                    [j for j in jobs if j.machine == name],
                    telemetry_interval_s,
                    event_id=_event_ids(f"{name}-{run}"),
                )
            )
        self._jobs = jobs
        self._done: set[tuple[str, int]] = set()

    def ready(self, job: Job) -> bool:
        earlier = [j for j in self._jobs if j.order_id == job.order_id and j.seq < job.seq]
        return all((j.order_id, j.seq) in self._done for j in earlier)

    @property
    def finished(self) -> bool:
        return all(m.idle for m in self.machines)

    def step(self, now: datetime, dt_s: float) -> list[tuple[str, str, bytes]]:
        """Advance every machine; returns (machine, kind, payload) to publish."""
        return [(m, kind, encode(model)) for m, kind, model in self.step_models(now, dt_s)]

    def step_models(self, now: datetime, dt_s: float) -> list[tuple[str, str, BaseModel]]:
        """Advance every machine; returns (machine, kind, contract message) in order."""
        out = []
        for m in self.machines:
            for kind, model in m.step(now, dt_s, self.ready, self.speed):
                out.append((m.machine_id, kind, model))
            self._done.update((j.order_id, j.seq) for j in m.done)
        return out


def run(
    sim: Simulation,
    mqtt_settings: MqttSettings,
    template: TopicTemplate,
    tick_s: float = 0.05,
    duration_s: float | None = None,
    exit_when_done: bool = False,
    stop: threading.Event | None = None,
    sparkplug: Sequence[str] = (),
    sparkplug_group: str | None = None,
) -> int:
    """Publish until stopped, `duration_s` passes, or (optionally) every job is done.

    Machines named in `sparkplug` speak Sparkplug B instead, each as its own edge node.
    """
    stop = stop or threading.Event()
    client = make_client(
        mqtt_settings, mqtt_settings.client_id or f"shopfloor-sim-{uuid.uuid4().hex[:6]}"
    )
    client.max_inflight_messages_set(200)
    connected = threading.Event()
    client.on_connect = lambda *_a: connected.set()
    connect(client, mqtt_settings, session_expiry_s=0)
    client.loop_start()
    if not connected.wait(30):
        client.loop_stop()
        raise ConnectionError(f"no MQTT broker at {mqtt_settings.host}:{mqtt_settings.port}")
    edges = {
        m.machine_id: SparkplugEdge(m, sparkplug_group or sim.site, mqtt_settings)
        for m in sim.machines
        if m.machine_id in sparkplug
    }
    for edge in edges.values():
        edge.start()
        edge.connected.wait(30)  # its NBIRTH goes out first; data before it would be refused
    start = time.monotonic()
    published = 0
    last: mqtt.MQTTMessageInfo | None = None
    try:
        while not stop.is_set():
            t0 = time.monotonic()
            now = datetime.now(UTC)
            for machine, kind, model in sim.step_models(now, tick_s * sim.speed):
                if machine in edges:
                    published += edges[machine].publish(model, now)
                    continue
                topic = template.topic(site=sim.site, line=sim.line, machine=machine, kind=kind)
                info = client.publish(topic, encode(model), qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    log.error("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
                    continue
                last = info
                published += 1
            if exit_when_done and sim.finished:
                log.info("all jobs done")
                break
            if duration_s is not None and time.monotonic() - start >= duration_s:
                break
            stop.wait(max(0.0, tick_s - (time.monotonic() - t0)))
        if last is not None:
            last.wait_for_publish(timeout=30)
    finally:
        for edge in edges.values():
            edge.close()
        client.disconnect()
        client.loop_stop()
    log.info(
        "simulation published %d messages in %s",
        published,
        timedelta(seconds=round(time.monotonic() - start)),
    )
    return published

"""Runs a simulation in real time (scaled by its speed factor) and publishes it over MQTT."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt

from shopfloor.contract.payloads import MachineState, StateEvent, encode
from shopfloor.contract.topics import EVENT, TopicTemplate, dispatch_subscription
from shopfloor.mqtt import MqttSettings, connect, make_client, unreachable

from .dispatch_board import DispatchBoard
from .machine import SimMachine
from .packml_runner import PackmlFleet
from .simulation import Sent, Simulation
from .sparkplug_runner import SparkplugEdge

log = logging.getLogger(__name__)


class _Publisher:
    """Puts messages on the broker: one client for all machines, or one per machine as PLC
    bridges do (own client id, last will OFFLINE, retained state)."""

    def __init__(
        self,
        sim: Simulation,
        settings: MqttSettings,
        template: TopicTemplate,
        bridges: bool,
    ) -> None:
        self.sim, self.template, self.bridges = sim, template, bridges
        self.published = 0
        self.failed = 0
        self._last: dict[str, mqtt.MQTTMessageInfo] = {}
        self.main = self._client(settings, settings.client_id or f"shopfloor-sim-{sim.run_id}")
        self.clients: dict[str, mqtt.Client] = {}
        self._wills = self._births = 0
        # machines played as PackML bridges have clients of their own (packml_runner.py)
        ours = [m for m in sim.machines if m.machine_id not in sim.packml]
        self._born = {m.machine_id: threading.Event() for m in ours if bridges}
        if bridges:
            for m in ours:
                client = self._client(settings, f"shopfloor-sim-{m.machine_id}")
                self._will(client, m.machine_id)
                # a connection lost means the will went out: the next one needs a new event id
                client.on_disconnect = lambda c, *_a, machine=m.machine_id: self._will(c, machine)
                client.on_connect = lambda c, *_a, machine=m: self._birth(c, machine)
                self.clients[m.machine_id] = client
        self._settings = settings

    def _birth(self, client: mqtt.Client, machine: SimMachine) -> None:
        """On each connect a bridge states the machine's state, retained (it replaces a will)."""
        self._births += 1
        birth = StateEvent(
            type="state",
            event_id=f"{machine.machine_id}-{self.sim.run_id}-birth-{self._births}",
            ts=datetime.now(UTC),
            state=machine.state,
        )
        topic = self.topic(machine.machine_id, EVENT)
        client.publish(topic, encode(birth), qos=1, retain=True)
        self._born[machine.machine_id].set()

    def _will(self, client: mqtt.Client, machine: str) -> None:
        """OFFLINE, retained, sent by the broker if this machine's connection dies."""
        self._wills += 1
        will = StateEvent(
            type="state",
            event_id=f"{machine}-{self.sim.run_id}-will-{self._wills}",
            state=MachineState.OFFLINE,
        )
        client.will_set(self.topic(machine, EVENT), encode(will), qos=1, retain=True)

    @staticmethod
    def _client(settings: MqttSettings, client_id: str) -> mqtt.Client:
        client = make_client(settings, client_id)
        client.max_inflight_messages_set(200)
        return client

    def topic(self, machine: str, kind: str) -> str:
        return self.template.topic(
            site=self.sim.site, line=self.sim.lines[machine], machine=machine, kind=kind
        )

    def start(self, board: DispatchBoard | None) -> None:
        why = unreachable(self._settings)
        if why is not None:
            raise ConnectionError(f"no MQTT broker at {self._settings.describe()}: {why}")
        connected = threading.Event()
        refused: list[str] = []

        def on_connect(client: mqtt.Client, _u: Any, _f: Any, reason: Any, *_p: Any) -> None:
            if reason.is_failure:  # wrong credentials, a client id or TLS certificate not let in
                refused.append(str(reason))
            elif board is not None:  # the tracker's lists are retained: they arrive at once
                client.subscribe(dispatch_subscription(self.sim.site), qos=1)
            connected.set()

        self.main.on_connect = on_connect
        if board is not None:
            self.main.on_message = lambda _c, _u, msg: board.receive(msg.topic, bytes(msg.payload))
        everyone = [self.main, *self.clients.values()]
        for client in everyone:
            connect(client, self._settings, session_expiry_s=0)
            client.loop_start()
        # every bridge has said its birth before the machines start to work
        if not connected.wait(30) or refused or not all(e.wait(30) for e in self._born.values()):
            self.stop(drain_s=0 if refused else 30)
            why = f" refused us: {refused[0]}" if refused else " did not let us in within 30 s"
            raise ConnectionError(f"the MQTT broker at {self._settings.describe()}{why}")

    def send(self, sent: Sent) -> None:
        client = self.clients.get(sent.machine, self.main)
        # a PLC bridge keeps the machine's state retained, for whoever subscribes later
        retain = self.bridges and sent.kind == EVENT and b'"type":"state"' in sent.payload
        topic = self.topic(sent.machine, sent.kind)
        info = client.publish(topic, sent.payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.failed += 1
            log.error("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
            return
        self._last[sent.machine] = info
        self.published += 1

    def stop(self, drain_s: float = 30.0) -> None:
        """Say OFFLINE for each bridge, wait (`drain_s` in all) for the broker's acks, leave."""
        for machine, client in self.clients.items():
            if not client.is_connected():
                continue  # its will (or an earlier OFFLINE) stands
            # a bridge that shuts down says so (a clean disconnect sends no will)
            bye = StateEvent(
                type="state",
                event_id=f"{machine}-{self.sim.run_id}-stop",
                ts=datetime.now(UTC),
                state=MachineState.OFFLINE,
            )
            self._last[machine] = client.publish(
                self.topic(machine, EVENT), encode(bye), qos=1, retain=True
            )
        deadline = time.monotonic() + drain_s
        for info in self._last.values():
            left = deadline - time.monotonic()
            if left > 0 and not info.is_published():
                with contextlib.suppress(RuntimeError, ValueError):  # lost with the connection
                    info.wait_for_publish(timeout=left)
        for client in [self.main, *self.clients.values()]:
            client.disconnect()
            client.loop_stop()


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
    bridges: bool = False,
) -> int:
    """Publish until stopped, `duration_s` passes, or (optionally) every job is done.

    Machines named in `sparkplug` speak Sparkplug B instead, each as its own edge node; with
    `bridges` every other machine has its own MQTT client, as a PLC bridge would. Machines in
    `sim.packml` are played as PackML bridges (packml_runner.py).
    """
    stop = stop or threading.Event()
    publisher = _Publisher(sim, mqtt_settings, template, bridges)
    publisher.start(sim.board)
    edges = _sparkplug_edges(sim, mqtt_settings, sparkplug, sparkplug_group or sim.site)
    packml = PackmlFleet(sim, mqtt_settings)
    try:
        packml.start()
    except ConnectionError:
        publisher.stop()
        raise
    start = time.monotonic()
    spb = 0
    try:
        while not stop.is_set():
            t0 = time.monotonic()
            spb += _step(sim, edges, packml, publisher, tick_s * sim.speed)
            if exit_when_done and sim.finished:
                log.info("all jobs done")
                break
            if duration_s is not None and time.monotonic() - start >= duration_s:
                break
            stop.wait(max(0.0, tick_s - (time.monotonic() - t0)))
    finally:
        for edge in edges.values():
            edge.close()
        packml.stop()
        publisher.stop()
    log.info(
        "simulation published %d messages (%d failed) in %s",
        publisher.published + spb + packml.published,
        publisher.failed,
        timedelta(seconds=round(time.monotonic() - start)),
    )
    _log_network_faults(sim)
    return publisher.published + spb + packml.published


def _step(
    sim: Simulation,
    edges: dict[str, SparkplugEdge],
    packml: PackmlFleet,
    publisher: _Publisher,
    dt_s: float,
) -> int:
    """One tick: each machine's messages to its edge node, PackML bridge or JSON publisher;
    how many Sparkplug messages went out."""
    now = datetime.now(UTC)
    models = sim.step_models(now, dt_s)
    spb = 0
    for machine, _kind, model in models:
        if machine in edges:
            spb += edges[machine].publish(model, now)
    packml.step(models, dt_s)
    for sent in sim.wire([m for m in models if m[0] not in edges and m[0] not in sim.packml]):
        publisher.send(sent)
    return spb


def _sparkplug_edges(
    sim: Simulation, mqtt_settings: MqttSettings, machines: Sequence[str], group: str
) -> dict[str, SparkplugEdge]:
    """The machines that speak Sparkplug B, each an edge node, started and born."""
    edges = {
        m.machine_id: SparkplugEdge(m, group, mqtt_settings)
        for m in sim.machines
        if m.machine_id in machines and m.machine_id not in sim.packml
    }
    for edge in edges.values():
        edge.start()
        edge.connected.wait(30)  # its NBIRTH goes out first; data before it would be refused
    return edges


def _log_network_faults(sim: Simulation) -> None:
    for machine, link in sim.links.items():
        if link.dropped or link.duplicated or link.reordered or link.malformed:
            log.info(
                "network faults on %s: %d messages dropped, %d duplicated, %d reordered, "
                "%d malformed sent",
                machine,
                link.dropped,
                link.duplicated,
                link.reordered,
                link.malformed,
            )

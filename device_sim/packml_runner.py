"""Publishes machines as PackML bridges: plain MQTT tags or a Sparkplug B edge node, with faults.

One MQTT client per bridge process: per machine in plain mode (`<Site>/<Area>/<Line>/...` topics,
text payloads, retained, QoS 0, no will, as libremfg/PackML-MQTT-Simulator), per edge node (Site,
Area) in Sparkplug mode. A restart is the process starting over (clean disconnect, new client,
counters from zero); a crash cuts the connection without a DISCONNECT (the broker sends the
will, if any) and the process comes back after the crash's time.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt

from shopfloor.contract.payloads import AlarmEvent
from shopfloor.mqtt import MqttSettings, connect, make_client
from shopfloor.sparkplug.topics import NCMD, SparkplugTopic

from .packml_bridge import BridgeSpec, PackmlBridge, Tag, js_text
from .packml_sparkplug import Message, PackmlEdgeNode
from .scenario import FaultSpec
from .simulation import Simulation
from .sparkplug_runner import asks_rebirth

log = logging.getLogger(__name__)
QOS = 0  # MQTT.js's and sparkplug-client's default: births, data, tags and the will


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Process:
    """One bridge process's MQTT client: connect, publish, leave cleanly or die."""

    def __init__(self, settings: MqttSettings, client_id: str, will: Message | None) -> None:
        self.client = make_client(settings, client_id)
        self.client.max_inflight_messages_set(1000)
        if will is not None:
            self.client.will_set(*will, qos=QOS, retain=False)
        self.connected = threading.Event()
        self.last: mqtt.MQTTMessageInfo | None = None
        self._settings = settings

    def start(self, on_connect: Callable[[mqtt.Client], object]) -> None:
        def connected(client: mqtt.Client, *_a: object) -> None:
            on_connect(client)
            self.connected.set()

        self.client.on_connect = connected
        connect(self.client, self._settings, session_expiry_s=0)
        self.client.loop_start()
        if not self.connected.wait(30):
            raise ConnectionError(f"no MQTT broker at {self._settings.host}:{self._settings.port}")

    def publish(self, topic: str, payload: bytes | str, retain: bool) -> mqtt.MQTTMessageInfo:
        self.last = self.client.publish(topic, payload, qos=QOS, retain=retain)
        return self.last

    def stop(self) -> None:
        """A clean disconnect once what was published is on its way: the broker sends no will."""
        if self.last is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                self.last.wait_for_publish(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    def crash(self) -> None:
        """The process dies: the TCP connection closes without a DISCONNECT (the will goes out)."""
        sock = self.client.socket()
        self.client.loop_stop()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()


class PlainBridge:
    """PackML tags as text on `<prefix>/<tag>`, retained; `<prefix>/Command/Reset` resets Count."""

    def __init__(self, bridge: PackmlBridge, spec: BridgeSpec, settings: MqttSettings) -> None:
        self.bridge, self.spec, self.settings = bridge, spec, settings
        self.process: _Process | None = None
        self.published = 0

    def start(self) -> None:
        # MQTT.js makes up a client id when none is given, as the reference's plain client does
        self.process = _Process(self.settings, f"mqttjs_{uuid.uuid4().hex[:8]}", None)
        self.process.client.on_message = self._on_command
        command = f"{self.spec.prefix}/Command/#"
        self.process.start(lambda client: client.subscribe(command, qos=QOS))

    def _on_command(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == f"{self.spec.prefix}/Command/Reset" and msg.payload.strip() == b"1":
            log.info("%s: Reset command", self.spec.prefix)
            self.bridge.reset()

    def send(self, tags: list[Tag]) -> None:
        if self.process is None:
            return
        for name, value in tags:
            self.process.publish(f"{self.spec.prefix}/{name}", js_text(value), retain=True)
            self.published += 1

    def stop(self, crash: bool = False) -> None:
        if self.process is not None:
            self.process.crash() if crash else self.process.stop()
            self.process = None


class SparkplugNode:
    """One edge node (Site, Area) with a device per machine (Line)."""

    def __init__(self, group: str, node: str, settings: MqttSettings) -> None:
        self.node = PackmlEdgeNode(group, node)
        self.settings = settings
        self.devices: dict[str, PackmlBridge] = {}  # device id -> bridge
        self.process: _Process | None = None
        self._lock = threading.Lock()  # births (network thread) and data (sim loop) share seq
        self.published = 0

    def start(self) -> None:
        self.node.restart()
        client_id = f"{self.node.group}-{self.node.node}-{uuid.uuid4().hex[:6]}"
        self.process = _Process(self.settings, client_id, self.node.will())
        self.process.client.on_message = self._on_command
        command = str(SparkplugTopic(self.node.group, NCMD, self.node.node))
        self.process.start(lambda client: client.subscribe(command, qos=QOS))
        # births once per process, not on a reconnect (the reference births from its constructor)
        self._births({d: b.step(0.0) for d, b in self.devices.items()})

    def _births(self, tags: dict[str, list[Tag]]) -> None:
        with self._lock:
            now = _now_ms()
            self._send(self.node.node_birth(now))
            for device, first in tags.items():
                self._send(self.node.device_birth(device, first, now))

    def _on_command(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if asks_rebirth(msg):
            self._births({device: [] for device in self.devices})

    def _send(self, message: Message) -> None:
        if self.process is not None:
            self.process.publish(*message, retain=False)
            self.published += 1

    def send(self, device: str, tags: list[Tag]) -> None:
        with self._lock:
            for tag in tags:
                self._send(self.node.data(device, tag, _now_ms()))

    def stop(self, crash: bool = False) -> None:
        if self.process is None:
            return
        if crash:
            self.process.crash()
        else:  # as the reference's clean exit: DDEATH per device, no NDEATH
            with self._lock:
                for device in self.devices:
                    self.process.publish(*self.node.device_death(device), retain=False)
            self.process.stop()
        self.process = None


class PackmlFleet:
    """Every PackML bridge of a simulation: steps their tags, publishes them, plays their faults."""

    def __init__(self, sim: Simulation, settings: MqttSettings, scan_s: float = 1.0) -> None:
        self.sim = sim
        self.bridges: dict[str, PackmlBridge] = {}
        self.plain: dict[str, PlainBridge] = {}
        self.nodes: dict[tuple[str, str], SparkplugNode] = {}
        self._down_until: dict[
            PlainBridge | SparkplugNode, float
        ] = {}  # process -> plant time it comes back
        machines = {m.machine_id: m for m in sim.machines}
        for machine_id, spec in sim.packml.items():
            rng = random.Random(sim.rng.random())
            bridge = PackmlBridge(machines[machine_id], rng, spec.codes, scan_s * sim.speed)
            self.bridges[machine_id] = bridge
            sim.holds[machine_id] = bridge.holds
            site, area, line = spec.levels
            if spec.sparkplug:
                node = self.nodes.get((site, area)) or SparkplugNode(site, area, settings)
                self.nodes[(site, area)] = node
                node.devices[line] = bridge
            else:
                self.plain[machine_id] = PlainBridge(bridge, spec, settings)

    def _process(self, machine_id: str) -> PlainBridge | SparkplugNode:
        if machine_id in self.plain:
            return self.plain[machine_id]
        return self.nodes[self.sim.packml[machine_id].levels[:2]]

    @property
    def processes(self) -> list[PlainBridge | SparkplugNode]:
        return [*self.plain.values(), *self.nodes.values()]

    @property
    def published(self) -> int:
        return sum(p.published for p in self.processes)

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def stop(self) -> None:
        """Each bridge process sends its last scan and leaves cleanly (a Sparkplug node says
        DDEATH, no NDEATH)."""
        for machine_id, bridge in self.bridges.items():
            process = self._process(machine_id)
            if process.process is None:
                continue
            if isinstance(process, PlainBridge):
                process.send(bridge.flush())
            else:
                process.send(self.sim.packml[machine_id].levels[2], bridge.flush())
        for process in self.processes:
            process.stop()

    def step(self, models: Sequence[tuple[str, str, object]], dt_s: float) -> None:
        """One tick: faults, then each live bridge's changed tags on the wire."""
        self._faults()
        self._revive()
        for machine_id, _kind, model in models:
            if isinstance(model, AlarmEvent) and machine_id in self.bridges:
                self.bridges[machine_id].alarm(model)
        by_node: dict[SparkplugNode, list[tuple[str, list[Tag]]]] = defaultdict(list)
        for machine_id, bridge in self.bridges.items():
            process = self._process(machine_id)
            if process.process is None:
                continue  # the bridge process is down: nobody reads the machine
            tags = bridge.step(dt_s)
            if isinstance(process, PlainBridge):
                process.send(tags)
            else:
                by_node[process].append((self.sim.packml[machine_id].levels[2], tags))
        for node, devices in by_node.items():
            for device, tags in devices:
                node.send(device, tags)

    def _faults(self) -> None:
        while self.sim.bridge_faults:
            fault = self.sim.bridge_faults.pop(0)
            self._apply(fault)

    def _apply(self, fault: FaultSpec) -> None:
        bridge = self.bridges.get(fault.machine)
        if bridge is None:
            return
        if fault.down_for is not None:
            bridge.held = fault.held
        elif fault.reset:
            bridge.reset()
        elif fault.restart or fault.crash_for is not None:
            process = self._process(fault.machine)
            process.stop(crash=fault.crash_for is not None)
            self._down_until[process] = self.sim.elapsed_s + (fault.crash_for or 0.0)

    def _revive(self) -> None:
        for process, until in list(self._down_until.items()):
            if self.sim.elapsed_s < until:
                continue
            del self._down_until[process]
            bridges = (
                [process.bridge] if isinstance(process, PlainBridge) else process.devices.values()
            )
            for bridge in bridges:
                bridge.restart()
            log.info("a PackML bridge process starts again")
            process.start()

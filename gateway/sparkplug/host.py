"""The host application's core: seq order, births and aliases, deaths, rebirth requests (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from google.protobuf.message import DecodeError

from shopfloor.contract.payloads import PayloadError, encode
from shopfloor.contract.topics import TopicTemplate
from shopfloor.sparkplug.names import BD_SEQ
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.topics import (
    DBIRTH,
    DDEATH,
    NBIRTH,
    NDEATH,
    SparkplugTopic,
    parse_topic,
)

from ..fields import FieldType
from ..mapping.mapper import TagValue
from ..mapping.spec import MachineSource
from ..outlet import Publish
from ..timestamps import Clock
from .events import Origin
from .machines import MachineRef, Machines
from .metrics import LineBuilder, read_updates
from .nodes import MAX_AHEAD, SEQ_MODULUS, Held, MetricDef, NodeState
from .settings import SparkplugSettings
from .stats import SparkplugStats
from .steps import Handled, Step, rebirth_request


def _bd_seq(payload: Payload) -> int | None:
    for metric in payload.metrics:
        if metric.name == BD_SEQ and metric.WhichOneof("value") in ("long_value", "int_value"):
            return int(metric.long_value or metric.int_value)
    return None


class SparkplugHost:
    """Consumes edge node messages in arrival order; every tag it is given comes back once."""

    def __init__(
        self,
        settings: SparkplugSettings,
        template: TopicTemplate,
        clock: Clock | None = None,
        field_types: Mapping[str, FieldType] | None = None,
        separator: str = "_",
        max_payload_bytes: int = 256 * 1024,
        sources: list[MachineSource] | None = None,
    ) -> None:
        self.settings = settings
        self._machines = Machines(settings, template, sources)
        self._machines.resolve("group", "node", "device")  # a template it cannot fill fails now
        self._lines = LineBuilder(field_types or {}, separator)
        self._clock = clock or Clock()
        self._max_bytes = max_payload_bytes
        self._reorder = timedelta(seconds=settings.reorder_timeout_s)
        self._retry = timedelta(seconds=settings.rebirth_retry_s)
        self.nodes: dict[tuple[str, str], NodeState] = {}
        self.stats = SparkplugStats()

    def receive(self, topic: str, raw: bytes, arrival: datetime, tag: object = None) -> Step:
        """Take one message; its outcome is in this step, or a later one if it came early."""
        step = Step()
        try:
            parsed = parse_topic(topic)
            if len(raw) > self._max_bytes:
                raise PayloadError("oversized", f"{len(raw)} bytes, limit {self._max_bytes}")
            try:
                payload = Payload.FromString(raw)
            except DecodeError as exc:
                raise PayloadError("sparkplug_decode", str(exc)[:200]) from None
        except PayloadError as exc:
            step.handled.append(Handled(tag, topic, raw, error=exc))
            return step
        held = Held(parsed, payload, raw, tag, arrival)
        if parsed.message_type == NBIRTH:
            self._node_birth(held, step)
        elif parsed.message_type == NDEATH:
            self._node_death(held, step)
        else:
            self._sequenced(held, step)
        return step

    def tick(self, now: datetime) -> Step:
        """Give up on gaps past the reorder timeout and send the rebirth requests now due."""
        step = Step()
        for node in self.nodes.values():
            if node.gap_deadline is not None and now >= node.gap_deadline:
                self._flush(node, step)
                node.rebirth_due, node.rebirth_reason = now, "seq_gap"
            if node.rebirth_due is not None and now >= node.rebirth_due:
                step.commands.append(rebirth_request(node.group, node.node, now))
                self.stats.count("rebirth_requests", node.rebirth_reason or "unknown")
                node.rebirth_due = now + self._retry
        return step

    # -- message types ----------------------------------------------------------------------
    def _node(self, topic: SparkplugTopic) -> NodeState:
        key = (topic.group, topic.node)
        if key not in self.nodes:
            self.nodes[key] = NodeState(topic.group, topic.node)
        return self.nodes[key]

    def _node_birth(self, msg: Held, step: Step) -> None:
        node = self._node(msg.topic)
        self._flush(node, step)  # what came before the birth belongs to the old session
        if not msg.payload.HasField("seq") or msg.payload.seq >= SEQ_MODULUS:
            step.handled.append(self._refused(msg, "sparkplug_seq", "NBIRTH without a valid seq"))
            return
        node.reset(_bd_seq(msg.payload), msg.payload.seq)
        stamp = msg.payload.timestamp if msg.payload.HasField("timestamp") else None
        node.session = stamp or int(msg.arrival.timestamp() * 1000)
        try:
            node.register(None, list(msg.payload.metrics))
        except PayloadError as exc:
            node.die()
            step.handled.append(Handled(msg.tag, str(msg.topic), msg.raw, error=exc))
            return
        self.stats.count("births", NBIRTH)
        defs = [MetricDef(m.name, m.datatype, None) for m in msg.payload.metrics]
        step.handled.append(self._metrics(node, msg, defs, birth=True))

    def _node_death(self, msg: Held, step: Step) -> None:
        node = self.nodes.get((msg.topic.group, msg.topic.node))
        bd_seq = _bd_seq(msg.payload)
        refs = self._machines.configured_for(msg.topic.group, msg.topic.node)
        if node is not None and node.born:
            if None not in (bd_seq, node.bd_seq) and bd_seq != node.bd_seq:
                detail = f"bdSeq {bd_seq} is not the live session's {node.bd_seq}"
                step.handled.append(self._refused(msg, "sparkplug_stale_death", detail))
                return
            self._flush(node, step)
            for device in [None, *sorted(node.devices)]:
                ref = self._machines.resolve(node.group, node.node, device)
                if ref is not None and ref.mapper.seen:
                    refs.append(ref)
        # the session's birth time, else the death's: an edge node that sends bdSeq 0 on every
        # connect still gets an OFFLINE for each of its deaths
        session = node.session if node is not None and node.born else None
        if node is not None:
            node.die()
        self.stats.count("deaths", NDEATH)
        session = session or int(msg.arrival.timestamp() * 1000)
        origin = Origin(msg.topic.group, msg.topic.node, None, bd_seq, None, session)
        events = [
            Publish(r.event_topic, encode(r.mapper.offline(msg.arrival, origin.key)))
            for r in _unique(refs)
        ]
        step.handled.append(Handled(msg.tag, str(msg.topic), msg.raw, events=events))

    def _sequenced(self, msg: Held, step: Step) -> None:
        node = self._node(msg.topic)
        if not node.born:
            self._want_rebirth(node, msg.arrival, "no_birth")
            detail = f"{msg.topic.message_type} before the node's NBIRTH"
            step.handled.append(self._refused(msg, "sparkplug_no_birth", detail))
            return
        if not msg.payload.HasField("seq") or msg.payload.seq >= SEQ_MODULUS:
            step.handled.append(self._refused(msg, "sparkplug_seq", "no valid seq (0-255)"))
            return
        seq = msg.payload.seq
        distance = node.distance(seq)
        if distance == 0:
            self._apply(node, msg, step)
            node.advance(seq)
            while node.next_seq in node.held:
                early = node.held.pop(node.next_seq)
                self._apply(node, early, step)
                node.advance(early.payload.seq)
            if not node.held:
                node.gap_deadline = None
        elif distance < MAX_AHEAD:
            replaced = node.held.get(seq)
            if replaced is not None:  # the same seq twice while waiting: a redelivery
                step.handled.append(Handled(replaced.tag, str(replaced.topic), replaced.raw))
            node.held[seq] = msg
            if node.gap_deadline is None:
                node.gap_deadline = msg.arrival + self._reorder
        else:
            self._apply(node, msg, step)  # behind: a redelivery, idempotent (same points, ids)

    def _flush(self, node: NodeState, step: Step) -> None:
        """Apply every held message in seq order, accepting the gap before them."""
        if node.next_seq is None:
            for early in node.held.values():
                step.handled.append(self._refused(early, "sparkplug_no_birth", "node is dead"))
        else:
            for seq in sorted(node.held, key=node.distance):
                early = node.held[seq]
                self._apply(node, early, step)
                node.advance(seq)
        node.held.clear()
        node.gap_deadline = None

    def _apply(self, node: NodeState, msg: Held, step: Step) -> None:
        device = msg.topic.device
        kind = msg.topic.message_type
        if kind == DBIRTH and device is not None:
            node.forget_device(device)
            try:
                node.register(device, list(msg.payload.metrics))
            except PayloadError as exc:
                step.handled.append(Handled(msg.tag, str(msg.topic), msg.raw, error=exc))
                return
            self.stats.count("births", DBIRTH)
            defs = [MetricDef(m.name, m.datatype, device) for m in msg.payload.metrics]
            step.handled.append(self._metrics(node, msg, defs, birth=True))
        elif kind == DDEATH and device is not None:
            self.stats.count("deaths", DDEATH)
            known = device in node.devices
            node.forget_device(device)
            ref = self._machines.resolve(node.group, node.node, device)
            events: list[Publish] = []
            if ref is not None and (known or ref.configured):
                seq = msg.payload.seq
                origin = Origin(node.group, node.node, device, node.bd_seq, seq, node.session)
                # the death's arrival in its id: a device that dies twice in one session of
                # its node, 256 messages apart, has two deaths
                arrival_ms = int(msg.arrival.timestamp() * 1000)
                offline = ref.mapper.offline(msg.arrival, f"{origin.key}|{arrival_ms}")
                events = [Publish(ref.event_topic, encode(offline))]
            step.handled.append(Handled(msg.tag, str(msg.topic), msg.raw, events=events))
        else:
            try:
                if device is not None and device not in node.devices:
                    raise PayloadError("sparkplug_no_birth", f"device {device!r} has no DBIRTH")
                notes: list[PayloadError] = []
                defs = [_definition(node, device, m, notes) for m in msg.payload.metrics]
            except PayloadError as exc:
                self._want_rebirth(node, msg.arrival, exc.reason.removeprefix("sparkplug_"))
                step.handled.append(Handled(msg.tag, str(msg.topic), msg.raw, error=exc))
                return
            handled = self._metrics(node, msg, defs, birth=False)
            handled.notes[:0] = notes
            step.handled.append(handled)

    def _metrics(self, node: NodeState, msg: Held, defs: list[MetricDef], birth: bool) -> Handled:
        out = Handled(msg.tag, str(msg.topic), msg.raw)
        ref = self._machines.resolve(node.group, node.node, msg.topic.device)
        if ref is None:
            return out  # neither configured nor auto-mapped: not ours to consume
        updates = read_updates(msg.payload, defs, self._clock, msg.arrival, out.notes)
        out.lines = self._lines.lines(ref.series, updates, out.notes)
        seq = msg.payload.seq if msg.payload.HasField("seq") else None
        origin = Origin(node.group, node.node, msg.topic.device, node.bd_seq, seq, node.session)
        values = [TagValue(u.name, u.value, u.ts_ns) for u in updates if not u.historical]
        mapped = ref.mapper.apply(values, origin.key, birth)
        out.notes += mapped.problems
        out.events = [Publish(ref.event_topic, encode(e)) for e in mapped.events]
        return out

    def _want_rebirth(self, node: NodeState, now: datetime, reason: str) -> None:
        if node.rebirth_due is None:
            node.rebirth_due, node.rebirth_reason = now + self._reorder, reason

    @staticmethod
    def _refused(msg: Held, reason: str, detail: str) -> Handled:
        return Handled(msg.tag, str(msg.topic), msg.raw, error=PayloadError(reason, detail))


def _definition(
    node: NodeState, device: str | None, metric: Payload.Metric, notes: list[PayloadError]
) -> MetricDef:
    """The birth's definition of a DATA metric; a named metric the birth did not declare is
    read with its own datatype (noted), as edge nodes add metrics after their birth."""
    try:
        return node.resolve(device, metric)
    except PayloadError as exc:
        if exc.reason != "sparkplug_unknown_metric" or not metric.HasField("datatype"):
            raise
        notes.append(PayloadError(exc.reason, f"{exc.detail}: read as its own datatype"))
        return MetricDef(metric.name, metric.datatype, device)


def _unique(refs: list[MachineRef]) -> list[MachineRef]:
    return list({r.machine: r for r in refs}.values())

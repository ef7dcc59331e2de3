"""What the host knows of each edge node: bdSeq, the next seq, metric names and aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shopfloor.contract.payloads import PayloadError
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.topics import SparkplugTopic

SEQ_MODULUS = 256
# a seq this far ahead of the expected one is a gap; further ahead is taken as behind (a replay)
MAX_AHEAD = SEQ_MODULUS // 2


@dataclass(frozen=True)
class MetricDef:
    """A metric as a birth declared it."""

    name: str
    datatype: int
    device: str | None


@dataclass(frozen=True)
class Held:
    """A message that came ahead of its turn, waiting for the missing seq."""

    topic: SparkplugTopic
    payload: Payload
    raw: bytes
    tag: object
    arrival: datetime


@dataclass
class NodeState:
    """One edge node; `next_seq` is None until an NBIRTH (and again after its NDEATH)."""

    group: str
    node: str
    bd_seq: int | None = None
    next_seq: int | None = None
    aliases: dict[int, MetricDef] = field(default_factory=dict)
    names: dict[tuple[str | None, str], MetricDef] = field(default_factory=dict)
    devices: set[str] = field(default_factory=set)  # devices born and not dead
    held: dict[int, Held] = field(default_factory=dict)
    gap_deadline: datetime | None = None
    rebirth_due: datetime | None = None
    rebirth_reason: str | None = None  # why the pending rebirth is wanted: seq_gap, no_birth...
    session: int | None = None  # the birth's time (epoch ms): tells sessions apart

    @property
    def born(self) -> bool:
        return self.next_seq is not None

    def distance(self, seq: int) -> int:
        """How far `seq` is ahead of the expected one (0: in order; MAX_AHEAD+: behind)."""
        assert self.next_seq is not None
        return (seq - self.next_seq) % SEQ_MODULUS

    def advance(self, seq: int) -> None:
        self.next_seq = (seq + 1) % SEQ_MODULUS

    def reset(self, bd_seq: int | None, seq: int) -> None:
        """A new NBIRTH: the node and all its devices start over."""
        self.bd_seq = bd_seq
        self.advance(seq)
        self.aliases.clear()
        self.names.clear()
        self.devices.clear()
        self.rebirth_due = None
        self.rebirth_reason = None

    def die(self) -> None:
        """NDEATH: nothing it sent before can be resolved any more until it is born again."""
        self.next_seq = None
        self.devices.clear()
        self.gap_deadline = None

    def forget_device(self, device: str) -> None:
        """DDEATH, or a new DBIRTH: drop the device's names and aliases."""
        self.devices.discard(device)
        for key in [k for k, m in self.names.items() if m.device == device]:
            del self.names[key]
        for alias in [a for a, m in self.aliases.items() if m.device == device]:
            del self.aliases[alias]

    def register(self, device: str | None, metrics: list[Payload.Metric]) -> None:
        """Record a birth's names, datatypes and aliases; PayloadError if it is malformed."""
        names: dict[tuple[str | None, str], MetricDef] = {}
        aliases: dict[int, MetricDef] = {}
        for metric in metrics:
            if not metric.name or not metric.HasField("datatype"):
                raise PayloadError("sparkplug_birth", "a birth metric lacks its name or datatype")
            definition = MetricDef(metric.name, metric.datatype, device)
            names[(device, metric.name)] = definition
            if metric.HasField("alias"):
                if metric.alias in aliases or metric.alias in self.aliases:
                    raise PayloadError("sparkplug_birth", f"alias {metric.alias} is used twice")
                aliases[metric.alias] = definition
        self.names.update(names)
        self.aliases.update(aliases)
        if device is not None:
            self.devices.add(device)

    def resolve(self, device: str | None, metric: Payload.Metric) -> MetricDef:
        """The birth's definition of a DATA metric, by alias or by name; PayloadError if none."""
        if metric.HasField("alias"):
            found = self.aliases.get(metric.alias)
            if found is None or found.device != device:
                raise PayloadError("sparkplug_unknown_alias", f"alias {metric.alias} has no birth")
            return found
        by_name = self.names.get((device, metric.name))
        if by_name is None:
            raise PayloadError("sparkplug_unknown_metric", f"{metric.name[:80]!r} has no birth")
        return by_name

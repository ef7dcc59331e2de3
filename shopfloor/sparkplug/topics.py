"""Sparkplug B topic names: `spBv1.0/<group>/<type>/<edge node>[/<device>]` and host STATE."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.contract.payloads import PayloadError

NAMESPACE = "spBv1.0"
NBIRTH, NDEATH, NDATA, NCMD = "NBIRTH", "NDEATH", "NDATA", "NCMD"
DBIRTH, DDEATH, DDATA, DCMD = "DBIRTH", "DDEATH", "DDATA", "DCMD"
STATE = "STATE"
NODE_TYPES = frozenset({NBIRTH, NDEATH, NDATA, NCMD})
DEVICE_TYPES = frozenset({DBIRTH, DDEATH, DDATA, DCMD})
# what a host application consumes; commands are what hosts (we among them) send
HOST_INPUT = (NBIRTH, NDATA, NDEATH, DBIRTH, DDATA, DDEATH)
_BAD_ID_CHARS = frozenset("/+#")


@dataclass(frozen=True)
class SparkplugTopic:
    """One edge node (or device) message topic, parsed."""

    group: str
    message_type: str
    node: str
    device: str | None = None

    def __str__(self) -> str:
        tail = f"/{self.device}" if self.device is not None else ""
        return f"{NAMESPACE}/{self.group}/{self.message_type}/{self.node}{tail}"


def parse_topic(topic: str) -> SparkplugTopic:
    """The parts of an edge node or device topic; PayloadError("sparkplug_topic") otherwise."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE or any(not p for p in parts):
        raise PayloadError("sparkplug_topic", f"{topic[:200]!r} is not a Sparkplug B topic")
    _, group, message_type, node, *device = parts
    expected = DEVICE_TYPES if device else NODE_TYPES
    if message_type not in expected:
        raise PayloadError("sparkplug_topic", f"{topic[:200]!r}: unknown message type")
    return SparkplugTopic(group, message_type, node, device[0] if device else None)


def check_id(value: str, what: str) -> str:
    """A group, edge node, device or host id: non-empty, no `/`, `+` or `#`."""
    if not value or _BAD_ID_CHARS & set(value):
        raise ValueError(f"Sparkplug {what} {value!r} must be non-empty without / + #")
    return value


def state_topic(host_id: str) -> str:
    """Where a host application publishes its retained online/offline state (Sparkplug 3.0)."""
    return f"{NAMESPACE}/{STATE}/{check_id(host_id, 'host id')}"


def host_subscriptions(group: str = "+") -> list[str]:
    """The filters a host subscribes to: births, data and deaths, never commands or STATE."""
    out = []
    for message_type in HOST_INPUT:
        device_level = "/+" if message_type in DEVICE_TYPES else ""
        out.append(f"{NAMESPACE}/{group}/{message_type}/+{device_level}")
    return out

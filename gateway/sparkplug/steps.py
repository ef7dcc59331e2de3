"""What the Sparkplug host's calls produce: messages handled, and rebirth requests to send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shopfloor.contract.payloads import PayloadError
from shopfloor.sparkplug.names import REBIRTH
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.topics import NCMD, SparkplugTopic
from shopfloor.sparkplug.values import DataType, write_value

from ..outlet import Publish


@dataclass
class Handled:
    """The outcome of one received message: points, events to publish, or why it was refused.

    `notes` are problems with single metrics (dead-lettered; the rest of the message counts).
    """

    tag: object
    topic: str
    raw: bytes
    lines: list[str] = field(default_factory=list)
    events: list[Publish] = field(default_factory=list)
    error: PayloadError | None = None
    notes: list[PayloadError] = field(default_factory=list)


@dataclass
class Step:
    """What one call produced: messages handled (any received earlier, too) and NCMDs to send."""

    handled: list[Handled] = field(default_factory=list)
    commands: list[Publish] = field(default_factory=list)


def rebirth_request(group: str, node: str, now: datetime) -> Publish:
    """The NCMD asking an edge node to publish its births again (QoS 0, as the spec says)."""
    payload = Payload(timestamp=int(now.timestamp() * 1000))
    metric = payload.metrics.add(name=REBIRTH)
    write_value(metric, DataType.BOOLEAN, True)
    topic = SparkplugTopic(group, NCMD, node)
    return Publish(str(topic), payload.SerializeToString(), qos=0)

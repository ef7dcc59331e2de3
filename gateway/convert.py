"""Turn one MQTT message into line-protocol points, or say precisely why not."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shopfloor.contract.payloads import PayloadError, parse_event, parse_telemetry
from shopfloor.contract.topics import EVENT, TopicTemplate

from .points import event_line, telemetry_line

if TYPE_CHECKING:
    from .settings import GatewaySettings


class Converter:
    """Topic + payload -> points; raises PayloadError with a reason code for bad input."""

    def __init__(self, template: TopicTemplate, max_payload_bytes: int) -> None:
        self._template = template
        self._max_bytes = max_payload_bytes

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Converter:
        """The converter the gateway's settings describe."""
        return cls(settings.template, settings.max_payload_bytes)

    def convert(self, topic: str, payload: bytes, arrival: datetime) -> list[str]:
        tags = self._template.match(topic)
        if tags is None:
            raise PayloadError(
                "unknown_topic", f"{topic!r} does not match {self._template.pattern!r}"
            )
        if any("\\" in value for value in tags.values()):
            raise PayloadError("unknown_topic", f"{topic!r}: a backslash cannot be stored in a tag")
        kind = tags.pop("kind")
        if kind == EVENT:
            return [event_line(tags, parse_event(payload, self._max_bytes), arrival)]
        readings = parse_telemetry(payload, self._max_bytes)
        return [telemetry_line(tags, reading, arrival) for reading in readings]

"""Turn one MQTT message into line-protocol points, or say precisely why not."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from shopfloor.contract.payloads import MachineEvent, PayloadError, parse_event
from shopfloor.contract.topics import DEAD_LETTER_PREFIX, EVENT, FIELD, KIND, TopicTemplate

from .decode import Decoder
from .points import TELEMETRY_MEASUREMENT, event_line, series_key
from .timestamps import Clock, epoch_ns

if TYPE_CHECKING:
    from .settings import GatewaySettings

_ROUTE_CACHE_LIMIT = 65_536
# events without a device time keep their first arrival time when delivered again (one point)
_EVENT_TIMES_LIMIT = 100_000


class Route(NamedTuple):
    """What a topic says: the kind, the series (measurement and tags) and the field, if named."""

    kind: str
    series: str
    tags: dict[str, str]
    field: str | None


# our own dead letters: a template wide enough to cover them must not feed them back in a loop
_IGNORED = Route("", "", {}, None)


class Converter:
    """Topic + payload -> line-protocol lines; raises PayloadError with a reason code."""

    def __init__(
        self,
        templates: TopicTemplate | Sequence[TopicTemplate],
        max_payload_bytes: int,
        decoder: Decoder | None = None,
    ) -> None:
        self._templates = [templates] if isinstance(templates, TopicTemplate) else list(templates)
        self._max_bytes = max_payload_bytes
        self.decoder = decoder or Decoder()
        self._routes: dict[str, Route] = {}
        self._event_times: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: GatewaySettings, clock: Clock | None = None) -> Converter:
        """The converter the gateway's settings describe (reading times with `clock`)."""
        decoder = settings.decode.decoder(clock)
        return cls(settings.templates, settings.max_payload_bytes, decoder)

    def convert(self, topic: str, payload: bytes, arrival: datetime) -> list[str]:
        """The points of one message; `arrival` is when it came (aware), the default time."""
        route = self._routes.get(topic) or self._route(topic)
        if route is _IGNORED:
            return []
        if len(payload) > self._max_bytes:
            raise PayloadError("oversized", f"{len(payload)} bytes, limit {self._max_bytes}")
        now_ns = epoch_ns(arrival)
        if route.kind == EVENT:
            return [self._event(route, payload, arrival, now_ns)]
        if route.field is None:
            decoded = self.decoder.readings(payload, now_ns)
        else:
            decoded = self.decoder.scalar(route.field, payload, now_ns)
        series = route.series
        return [f"{series} {fields} {ts}" for fields, ts in decoded]

    def _route(self, topic: str) -> Route:
        if topic.startswith(DEAD_LETTER_PREFIX):
            return _IGNORED
        for template in self._templates:
            tags = template.match(topic)
            if tags is not None:
                break
        else:
            patterns = ", ".join(repr(t.pattern) for t in self._templates)
            raise PayloadError("unknown_topic", f"{topic[:200]!r} matches none of {patterns}")
        if "\\" in topic:
            raise PayloadError("unknown_topic", f"{topic[:200]!r}: a backslash cannot be stored")
        if not topic.isascii():
            try:
                topic.encode()
            except UnicodeEncodeError:
                raise PayloadError("unknown_topic", "the topic is not valid Unicode") from None
        kind = tags.pop(KIND)
        field = tags.pop(FIELD, None)
        route = Route(kind, series_key(TELEMETRY_MEASUREMENT, tags), tags, field)
        if len(self._routes) >= _ROUTE_CACHE_LIMIT:
            self._routes.clear()
        self._routes[topic] = route
        return route

    def _event(self, route: Route, payload: bytes, arrival: datetime, now_ns: int) -> str:
        try:
            event: MachineEvent = parse_event(payload, self._max_bytes)
        except RecursionError:
            raise PayloadError("invalid_json", "nested too deeply") from None
        except PayloadError as exc:
            where = exc.detail.split(":", 1)[0].rsplit(".", 1)[-1]
            if exc.reason == "schema" and where == "ts":
                raise PayloadError("bad_timestamp", exc.detail) from None
            raise
        if event.ts is not None:
            self.decoder.clock.check(epoch_ns(event.ts), now_ns)
        else:  # stored at its first arrival however often it comes (a point per time)
            key = (route.series, event.event_id)
            arrival = self._event_times.pop(key, arrival)
            self._event_times[key] = arrival
            if len(self._event_times) > _EVENT_TIMES_LIMIT:
                self._event_times.popitem(last=False)
        return event_line(route.tags, event, arrival)

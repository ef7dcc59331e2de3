"""Which mapped machine a topic belongs to, and one message to points, events and problems."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shopfloor.contract.payloads import PayloadError, encode
from shopfloor.contract.topics import EVENT, TopicTemplate

from ..fields import FieldCoders, FieldType
from ..outlet import Publish
from ..points import TELEMETRY_MEASUREMENT, series_key
from ..timestamps import Clock, epoch_ns
from .inputs import TopicPattern, json_values, topic_value
from .mapper import MachineMapper, TagValue
from .spec import TAG, MachineSource

# a machine id made of topic levels must be usable as one (and as the tracker's machine id)
_MACHINE_ID = re.compile(r"^[^/+#\s\x00-\x1f\x7f]{1,128}$")
_MACHINE_LIMIT = 10_000
_ROUTE_LIMIT = 65_536


@dataclass
class MappedMessage:
    """One message's points, the events made of it, and its problems (dead-lettered)."""

    lines: list[str] = field(default_factory=list)
    events: list[Publish] = field(default_factory=list)
    problems: list[tuple[str, PayloadError]] = field(default_factory=list)  # (machine, problem)


@dataclass
class MappedMachine:
    """A machine of a source, resolved: its mapper, telemetry series and event topic."""

    mapper: MachineMapper
    series: str
    event_topic: str


# a source that takes a topic: its declaration, the topic's levels, and the machine (or why
# the levels make no machine)
_Route = tuple[MachineSource, dict[str, str], "MappedMachine | PayloadError"]


class TagMappings:
    """The declared machine sources (topic and JSON); Sparkplug ones are the host's."""

    def __init__(
        self,
        machines: list[MachineSource],
        template: TopicTemplate,
        site: str,
        clock: Clock | None = None,
        field_types: Mapping[str, FieldType] | None = None,
    ) -> None:
        self._sources = [
            (TopicPattern(m.source.topic), m) for m in machines if m.source.topic is not None
        ]
        self._template = template
        self._site = site
        self._clock = clock or Clock()
        self._fields = FieldCoders(field_types)
        self._machines: dict[tuple[int, str], MappedMachine] = {}
        # topic -> the sources that take it, with its levels (a topic's route never changes)
        self._routes: dict[str, list[_Route]] = {}

    def convert(
        self, topic: str, payload: bytes, arrival: datetime, retained: bool = False
    ) -> MappedMessage | None:
        """The message's points and events, or None when no source takes its topic.

        A one-value topic belongs to the first source that matches it; a JSON message goes to
        every JSON source whose topic matches (a bridge that sends many machines' tags in one
        message), each taking the tags it `select`s. A retained message is a snapshot, as a
        Sparkplug birth is: it raises no alarm and its increments count no parts."""
        routes = self._routes.get(topic)
        if routes is None:
            routes = self._route(topic)
        if not routes:
            return None
        out = MappedMessage()
        now_ns = epoch_ns(arrival)
        for declared, segments, machine in routes:
            self._convert_one(declared, segments, machine, payload, now_ns, out, retained)
        return out

    def _route(self, topic: str) -> list[_Route]:
        routes: list[_Route] = []
        for i, (pattern, declared) in enumerate(self._sources):
            segments = pattern.match(topic)
            if segments is None or (routes and declared.source.kind != "json"):
                continue
            try:
                machine: MappedMachine | PayloadError = self._machine(i, declared, segments)
            except PayloadError as exc:
                machine = exc
            routes.append((declared, segments, machine))
            if declared.source.kind != "json":
                break
        if len(self._routes) >= _ROUTE_LIMIT:
            self._routes.clear()
        self._routes[topic] = routes
        return routes

    def _convert_one(
        self,
        declared: MachineSource,
        segments: dict[str, str],
        machine: MappedMachine | PayloadError,
        payload: bytes,
        now_ns: int,
        out: MappedMessage,
        retained: bool,
    ) -> None:
        if isinstance(machine, PayloadError):
            out.problems.append((declared.id, machine))
            return
        name = machine.mapper.machine
        try:
            if declared.source.kind == "json":
                values = json_values(declared.source, payload, self._clock, now_ns)
            else:
                values = topic_value(segments[TAG], payload, self._clock, now_ns)
        except PayloadError as exc:
            out.problems.append((name, exc))
            return
        problems: list[PayloadError] = []
        out.lines += self._lines(machine.series, values, problems)
        mapped = machine.mapper.apply(values, birth=retained)
        if problems or mapped.problems:
            out.problems += [(name, p) for p in [*problems, *mapped.problems]]
        if mapped.events:
            out.events += [Publish(machine.event_topic, encode(e)) for e in mapped.events]

    def _machine(self, i: int, declared: MachineSource, segments: dict[str, str]) -> MappedMachine:
        machine_id = declared.id
        if "{" in machine_id:
            try:
                machine_id = machine_id.format(**segments)
            except (KeyError, IndexError, ValueError):
                raise PayloadError("mapped_machine", f"id {declared.id!r} names no level") from None
        key = (i, machine_id)
        found = self._machines.get(key)
        if found is not None:
            return found
        if not _MACHINE_ID.match(machine_id):
            detail = (
                f"machine id {machine_id[:60]!r} is not 1-128 characters without / + # or spaces"
            )
            raise PayloadError("mapped_machine", detail)
        source = declared.source
        site = source.site or segments.get("site") or self._site
        line = source.line or segments.get("line") or machine_id
        tags = {k: v for k, v in segments.items() if k != TAG}
        tags.update(site=site, line=line, machine=machine_id)
        topic = self._template.topic(site=site, line=line, machine=machine_id, kind=EVENT)
        found = MappedMachine(
            MachineMapper(machine_id, source, declared.counter_wrap),
            series_key(TELEMETRY_MEASUREMENT, tags),
            topic,
        )
        if len(self._machines) >= _MACHINE_LIMIT:
            raise PayloadError("mapped_machine", f"more than {_MACHINE_LIMIT} mapped machines")
        self._machines[key] = found
        return found

    def _lines(
        self, series: str, values: list[TagValue], problems: list[PayloadError]
    ) -> list[str]:
        """Points of the values, one line per timestamp; text is a string field unless declared."""
        by_ts: dict[int, list[str]] = {}
        taken: set[tuple[str, int]] = set()
        for tv in values:
            if tv.value is None:
                continue
            try:
                part = self._fields.part(tv.name, tv.value, isinstance(tv.value, str))
            except PayloadError as exc:
                problems.append(exc)
                continue
            ts = tv.ts_ns
            while (tv.name, ts) in taken:
                ts += 1  # the same tag twice at one time: a point each, a nanosecond apart
            taken.add((tv.name, ts))
            by_ts.setdefault(ts, []).append(part)
        return [f"{series} {','.join(parts)} {ts}" for ts, parts in by_ts.items()]

"""Which machine an edge node or device is: the configured map, else named after itself."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.contract.topics import EVENT, TopicTemplate

from ..mapping.mapper import MachineMapper
from ..mapping.spec import MachineSource, Source
from ..points import TELEMETRY_MEASUREMENT, series_key
from .settings import SparkplugSettings

DeviceKey = tuple[str, str, str | None]  # (group, edge node, device or None)


@dataclass(frozen=True)
class MachineRef:
    """A machine: where its events go, its telemetry series and the mapper of its metrics."""

    machine: str
    event_topic: str
    series: str
    mapper: MachineMapper
    configured: bool


@dataclass(frozen=True)
class _Declared:
    machine: str
    site: str
    line: str
    source: Source
    counter_wrap: int | None = None


class Machines:
    """Resolves (group, node, device) to a machine, once per key."""

    def __init__(
        self,
        settings: SparkplugSettings,
        template: TopicTemplate,
        sources: list[MachineSource] | None = None,
    ) -> None:
        if EVENT not in template.kinds:
            raise ValueError(f"topic template {template.pattern!r} carries no events")
        self._settings = settings
        self._template = template
        self._configured: dict[DeviceKey, _Declared] = {}
        for m in settings.machines:
            source = settings.profiles[m.profile].source(m.group, m.node, m.device)
            declared = _Declared(m.machine, m.site or m.group, m.line or m.node, source)
            self._configured[(m.group, m.node, m.device)] = declared
        for ms in sources or []:
            src = ms.source
            if src.kind != "sparkplug" or src.group is None or src.node is None:
                continue
            site, line = src.site or src.group, src.line or src.node
            key = (src.group, src.node, src.device)
            self._configured[key] = _Declared(ms.id, site, line, src, ms.counter_wrap)
        self._cache: dict[DeviceKey, MachineRef | None] = {}

    def resolve(self, group: str, node: str, device: str | None) -> MachineRef | None:
        """The machine, or None when it is neither configured nor auto-mapped."""
        key = (group, node, device)
        if key not in self._cache:
            self._cache[key] = self._make(key)
        return self._cache[key]

    def configured_for(self, group: str, node: str) -> list[MachineRef]:
        """Every configured machine on one edge node (its own and its devices')."""
        refs = [self.resolve(g, n, d) for g, n, d in self._configured if (g, n) == (group, node)]
        return [r for r in refs if r is not None]

    def _make(self, key: DeviceKey) -> MachineRef | None:
        group, node, device = key
        entry = self._configured.get(key)
        if entry is None:
            if not self._settings.auto_machines:
                return None
            source = self._settings.profiles["default"].source(group, node, device)
            entry = _Declared(device or node, group, node, source)
        machine, site, line = entry.machine, entry.site, entry.line
        topic = self._template.topic(site=site, line=line, machine=machine, kind=EVENT)
        tags = {"group": group, "edge_node": node, "site": site, "line": line, "machine": machine}
        if device is not None:
            tags["device"] = device
        return MachineRef(
            machine,
            topic,
            series_key(TELEMETRY_MEASUREMENT, tags),
            MachineMapper(machine, entry.source, entry.counter_wrap),
            key in self._configured,
        )

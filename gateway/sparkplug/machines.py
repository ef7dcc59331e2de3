"""Which machine an edge node or device is: the configured map, else named after itself."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.contract.topics import EVENT, TopicTemplate

from ..points import TELEMETRY_MEASUREMENT, series_key
from .settings import EventProfile, SparkplugSettings

DeviceKey = tuple[str, str, str | None]  # (group, edge node, device or None)


@dataclass(frozen=True)
class MachineRef:
    """A machine: where its events go, its telemetry series and the metrics that make events."""

    machine: str
    event_topic: str
    series: str
    profile: EventProfile
    configured: bool


class Machines:
    """Resolves (group, node, device) to a machine, once per key."""

    def __init__(self, settings: SparkplugSettings, template: TopicTemplate) -> None:
        if EVENT not in template.kinds:
            raise ValueError(f"topic template {template.pattern!r} carries no events")
        self._settings = settings
        self._template = template
        self._configured = {(m.group, m.node, m.device): m for m in settings.machines}
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
        if entry is None and not self._settings.auto_machines:
            return None
        if entry is not None:
            machine, profile = entry.machine, entry.profile
            site, line = entry.site or group, entry.line or node
        else:
            machine, profile, site, line = device or node, "default", group, node
        topic = self._template.topic(site=site, line=line, machine=machine, kind=EVENT)
        tags = {"group": group, "edge_node": node, "site": site, "line": line, "machine": machine}
        if device is not None:
            tags["device"] = device
        return MachineRef(
            machine,
            topic,
            series_key(TELEMETRY_MEASUREMENT, tags),
            self._settings.profiles[profile],
            entry is not None,
        )

"""What the simulated machines really did: their state changes, parts and alarms, as a test's
ground truth for OEE and downtime (recorded before the network, so network faults do not
change it). Pure: no I/O, no tracker imports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from shopfloor.contract.payloads import AlarmEvent, CycleEvent, StateEvent

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class StateSpan:
    """A machine in `state` from `start` to `end` (None: still in it)."""

    state: str
    start: datetime
    end: datetime | None


@dataclass
class MachineTruth:
    """One machine's record: state changes in order, parts made, alarms raised."""

    changes: list[tuple[str, datetime]] = field(default_factory=list)
    good: int = 0
    scrap: int = 0
    alarms: list[tuple[str, datetime]] = field(default_factory=list)
    scrap_counter: int = 0  # the last scrap counter a cycle carried

    def spans(self) -> list[StateSpan]:
        """The states one after the other; the last one still open."""
        ends: list[datetime | None] = [at for _, at in self.changes[1:]]
        return [StateSpan(s, a, e) for (s, a), e in zip(self.changes, [*ends, None], strict=True)]

    def seconds(self, state: str, windows: Sequence[Span]) -> float:
        """Seconds in `state` inside the windows (an open state lasts to each window's end)."""
        total = 0.0
        for span in self.spans():
            if span.state != state:
                continue
            for lo, hi in windows:
                a, b = max(span.start, lo), min(span.end or hi, hi)
                total += max((b - a).total_seconds(), 0.0)
        return total


class GroundTruth:
    """Records every machine's messages as `Simulation.step_models` makes them."""

    def __init__(self) -> None:
        self.machines: dict[str, MachineTruth] = defaultdict(MachineTruth)

    def record(self, messages: Iterable[tuple[str, str, BaseModel]]) -> None:
        """Keep the state changes (not the repeats), the cycles' parts and the alarms."""
        for machine, _kind, model in messages:
            truth = self.machines[machine]
            if isinstance(model, StateEvent):
                state = str(model.state.value)
                if not truth.changes or truth.changes[-1][0] != state:
                    assert model.ts is not None  # the simulator stamps every event
                    truth.changes.append((state, model.ts))
            elif isinstance(model, CycleEvent):
                # the simulator moves one of its two counters a cycle
                if model.scrap_counter not in (None, truth.scrap_counter):
                    truth.scrap += 1
                    truth.scrap_counter = model.scrap_counter
                else:
                    truth.good += 1
            elif isinstance(model, AlarmEvent) and model.ts is not None:
                truth.alarms.append((model.code, model.ts))

    def stops(self, machine: str, state: str = "DOWN") -> list[StateSpan]:
        """The machine's periods in `state` (DOWN: its breakdowns)."""
        return [s for s in self.machines[machine].spans() if s.state == state]

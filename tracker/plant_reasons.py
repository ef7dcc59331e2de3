"""The plant file's downtime reasons: the catalogue (code, name, category) and which reason each
alarm code gives, plant-wide or on one machine."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shopfloor.yaml_file import Loc
from tracker.domain.downtime import Category, Reason, ReasonCatalogue

# as alarm events carry it (the contract's code field)
AlarmCode = Annotated[str, Field(min_length=1, max_length=128)]


class ReasonFile(BaseModel):
    """One reason of the catalogue: `{name: Spindle fault, category: mechanical}`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    category: Category


class _MachineAlarms(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def alarm_reasons(self) -> dict[str, str]: ...


def reason_problems(
    reasons: Mapping[str, ReasonFile],
    alarms: Mapping[str, str],
    machines: Sequence[_MachineAlarms],
) -> Iterator[tuple[Loc, str]]:
    """Alarm codes mapped to a reason the catalogue does not have."""
    known = ", ".join(reasons) or "none"
    maps: list[tuple[Loc, Mapping[str, str]]] = [(("alarm_reasons",), alarms)]
    maps += [(("machines", i, "alarm_reasons"), m.alarm_reasons) for i, m in enumerate(machines)]
    for loc, mapping in maps:
        for alarm, code in mapping.items():
            if code not in reasons:
                yield (*loc, alarm), f"unknown reason {code!r} (reasons: {known})"


def catalogue(
    reasons: Mapping[str, ReasonFile],
    alarms: Mapping[str, str],
    machines: Sequence[_MachineAlarms],
) -> ReasonCatalogue:
    """The domain's view of the validated reasons and alarm mappings."""
    return ReasonCatalogue(
        reasons={code: Reason(code, r.name, r.category) for code, r in reasons.items()},
        alarms=dict(alarms),
        machine_alarms={m.id: dict(m.alarm_reasons) for m in machines if m.alarm_reasons},
    )

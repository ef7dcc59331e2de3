"""The plant file's reliability figures: a machine's (or its work center's) mean time between
failures, mean repair time and operation spread, its prior for P(on time) (docs/foresight.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from shopfloor.yaml_file import Loc
from tracker.domain.foresight.priors import Reliability

FIELDS = ("mtbf_h", "mttr_min", "duration_cv")
# a number (`yes` or "20" is a mistake, not 1 or 20)
Number = Annotated[float, Field(strict=True)]


def _within(low: float, high: float, unit: str, low_ok: bool = False) -> AfterValidator:
    """A figure from `low` (excluded unless `low_ok`) to `high`, refused in words otherwise."""
    above = f"from {low:g}" if low_ok else f"more than {low:g}"

    def check(value: float) -> float:
        if not ((value >= low if low_ok else value > low) and value <= high):  # NaN: refused
            raise ValueError(f"must be {above} and at most {high:,g}{unit}, not {value:g}")
        return value

    return AfterValidator(check)


class ReliabilityFile(BaseModel):
    """`{mtbf_h: 20, mttr_min: 120, duration_cv: 0.08}`: any of the three, the rest inherited."""

    model_config = ConfigDict(extra="forbid")

    # mean running hours between failures, up to 10 years
    mtbf_h: Annotated[Number, _within(0, 10 * 365 * 24, " h (10 years)")] | None = None
    # mean repair minutes, up to 30 days
    mttr_min: Annotated[Number, _within(0, 30 * 24 * 60, " min (30 days)")] | None = None
    # an operation's time over its plan: standard deviation over the mean
    duration_cv: Annotated[Number, _within(0, 2, "", low_ok=True)] | None = None

    @model_validator(mode="after")
    def _something(self) -> ReliabilityFile:
        if all(getattr(self, name) is None for name in FIELDS):
            raise ValueError(f"give at least one of {', '.join(FIELDS)}")
        return self


def reliability_conflicts(
    own: Mapping[str, ReliabilityFile | None],
    centers: Mapping[str, tuple[Sequence[str], ReliabilityFile | None]],
) -> Iterator[tuple[Loc, str]]:
    """A machine without its own figure in two work centers that give it differently."""
    for name in FIELDS:
        first: dict[str, tuple[str, float]] = {}
        for center, (machines, figures) in centers.items():
            value: float | None = None if figures is None else getattr(figures, name)
            if value is None:
                continue
            for machine in machines:
                mine = own.get(machine)
                if mine is not None and getattr(mine, name) is not None:
                    continue
                seen = first.setdefault(machine, (center, value))
                if seen[1] != value:
                    yield (
                        ("work_centers", center, "reliability", name),
                        f"machine {machine} is also in {seen[0]} with {name}: {seen[1]:g}; "
                        f"set reliability on the machine",
                    )


def reliabilities(
    own: Mapping[str, ReliabilityFile | None],
    centers: Mapping[str, tuple[Sequence[str], ReliabilityFile | None]],
) -> dict[str, Reliability]:
    """Each machine's figures, field by field: its own, else its (first) work center's giving it."""
    out: dict[str, Reliability] = {}
    for machine in [*own, *(m for machines, _ in centers.values() for m in machines)]:
        chain = [own.get(machine)] + [f for ms, f in centers.values() if machine in ms]
        given = [f for f in chain if f is not None]
        if not given or machine in out:
            continue
        hours = next((f.mtbf_h for f in given if f.mtbf_h is not None), None)
        minutes = next((f.mttr_min for f in given if f.mttr_min is not None), None)
        out[machine] = Reliability(
            mtbf_s=None if hours is None else hours * 3600.0,
            mttr_s=None if minutes is None else minutes * 60.0,
            duration_cv=next((f.duration_cv for f in given if f.duration_cv is not None), None),
        )
    return out

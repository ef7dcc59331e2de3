"""Each machine's prior for P(on time): the plant file's reliability figures over the settings'."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .estimator import MachineRisk


@dataclass(frozen=True)
class Reliability:
    """What the plant file says of a machine's failures, repairs and operation spread; None:
    not said (the settings' figure holds)."""

    mtbf_s: float | None = None
    mttr_s: float | None = None
    duration_cv: float | None = None

    def over(self, default: MachineRisk) -> MachineRisk:
        """`default` with these figures where given."""
        return replace(
            default,
            mtbf_s=default.mtbf_s if self.mtbf_s is None else self.mtbf_s,
            mttr_s=default.mttr_s if self.mttr_s is None else self.mttr_s,
            duration_cv=default.duration_cv if self.duration_cv is None else self.duration_cv,
        )


@dataclass(frozen=True)
class Priors:
    """The prior of every machine: its own where the plant file gives figures, else `default`."""

    default: MachineRisk = MachineRisk()
    machines: Mapping[str, MachineRisk] = field(default_factory=dict)

    @classmethod
    def of_plant(cls, default: MachineRisk, figures: Mapping[str, Reliability]) -> Priors:
        """`default` for every machine, with each machine's declared figures over it."""
        return cls(default, {machine: f.over(default) for machine, f in figures.items()})

    def of(self, machine: str) -> MachineRisk:
        return self.machines.get(machine, self.default)

"""Scenario files: a plant, its orders, scripted faults and the expected outcome, in YAML.

Times are plant time (`45s`, `10m`, `1h30m`, or seconds as a number); a run at `speed` S
passes S plant seconds per wall-clock second, and everything handed to the tracker (cycle and
setup times, due dates) is compressed by S so it sees a plant that runs S times faster.
Problems are reported as `path:line: where: message` (shopfloor/yaml_file.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shopfloor.yaml_file import Loc, Problem, YamlFileError, parse_yaml, read_yaml

from .durations import Duration
from .models import MODELS, MachineModel

BUILT_IN = "demo"
# names end up in MQTT topics and plant files
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^/+#\s;=\[\]]+$")]
# how a machine reaches the broker: our JSON contract, or a PackML bridge (plain or Sparkplug B)
BridgeKind = Literal["json", "packml", "packml-sparkplug"]
PACKML_KINDS = ("packml", "packml-sparkplug")
# `Site/Area/Line`: three levels, spaces allowed (PackML bridges use them), no MQTT wildcards
PackmlPrefix = Annotated[
    str, Field(min_length=5, max_length=300, pattern=r"^[^/+#\x00]+/[^/+#\x00]+/[^/+#\x00]+$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MachineSpec(_Strict):
    """One simulated machine: its model and what differs from the model's figures."""

    id: Name
    model: str
    line: Name = "line1"
    counter_wrap: int | None = Field(default=None, gt=1, le=2**32)
    counter_start: int = Field(default=0, ge=0)
    failures: bool = True  # random breakdowns from the model's MTBF/MTTR
    mtbf: Duration | None = Field(default=None, gt=0)
    mttr: Duration | None = Field(default=None, gt=0)
    scrap_rate: float | None = Field(default=None, ge=0, lt=1)
    bridge: BridgeKind | None = None  # the scenario's `bridge` when not given
    packml_prefix: PackmlPrefix | None = None  # default `<site>/<line>/<id>`
    # StateCurrent codes: ISA-TR88 (standard) or the reference simulator's (Idle 1, Clearing 4)
    packml_codes: Literal["standard", "simulator"] = "standard"

    @model_validator(mode="after")
    def _known_model(self) -> MachineSpec:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r} (models: {', '.join(MODELS)})")
        return self

    def machine_model(self) -> MachineModel:
        """The model with this machine's own MTBF/MTTR where given."""
        model = MODELS[self.model]
        return replace(
            model,
            mtbf_s=self.mtbf if self.mtbf is not None else model.mtbf_s,
            mttr_s=self.mttr if self.mttr is not None else model.mttr_s,
        )

    @property
    def wrap(self) -> int:
        """The counter wrap: this machine's, else its model's."""
        return self.counter_wrap or MODELS[self.model].counter_wrap

    @property
    def scrap(self) -> float:
        """The scrap rate: this machine's, else its model's."""
        return MODELS[self.model].scrap_rate if self.scrap_rate is None else self.scrap_rate


class OperationSpec(_Strict):
    """One step of an order's routing, on a machine or a work center."""

    seq: int = Field(ge=0, le=100_000)
    name: str = Field(min_length=1, max_length=100)
    machine: Name
    setup: Duration = 0.0
    cycle: Duration = Field(gt=0)


class OrderSpec(_Strict):
    """An order the scenario places `at` its time, due `due` after the scenario's start."""

    id: Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[^/+#\s]+$")]
    customer: str = Field(default="Demo customer", min_length=1, max_length=200)
    product: str = Field(default="part", min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=1_000_000)
    due: Duration = Field(gt=0)
    priority: int = Field(default=0, ge=0, le=100)
    at: Duration = 0.0
    routing: list[OperationSpec] = Field(min_length=1)


FAULT_KINDS = (
    "down_for",
    "offline_for",
    "silent_for",
    "duplicate",
    "out_of_order",
    "malformed",
    "reset",
    "restart",
    "crash_for",
)
BRIDGE_FAULTS = ("reset", "restart", "crash_for", "held")


class FaultSpec(_Strict):
    """Something that goes wrong `at` a time: exactly one of the fault kinds.

    down_for: a breakdown with an alarm; offline_for: switched off (OFFLINE, then nothing);
    silent_for: the network drops everything it sends (or holds it, `buffered: true`, as a
    store-and-forward bridge would, and delivers it late); duplicate: its next N events are
    sent twice; out_of_order: its next N events are sent in reverse order; malformed: N
    payloads that break the contract in different ways. PackML bridges only: reset: an
    operator's Reset (Count to 0); restart: the bridge process restarts (AccCount to 0);
    crash_for: the bridge process dies (no clean disconnect: its will) and restarts after this
    time; `held: true` with down_for: the unit goes Held instead of Aborted.
    """

    at: Duration
    machine: Name
    down_for: Duration | None = Field(default=None, gt=0)
    alarm: str | None = Field(default=None, min_length=1, max_length=100)
    message: str = Field(default="", max_length=500)
    offline_for: Duration | None = Field(default=None, gt=0)
    silent_for: Duration | None = Field(default=None, gt=0)
    buffered: bool = False
    duplicate: int | None = Field(default=None, ge=1, le=100_000)
    out_of_order: int | None = Field(default=None, ge=2, le=10_000)
    malformed: int | None = Field(default=None, ge=1, le=100_000)
    reset: Literal[True] | None = None
    restart: Literal[True] | None = None
    crash_for: Duration | None = Field(default=None, gt=0)
    held: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> FaultSpec:
        given = [k for k in FAULT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a fault needs exactly one of {', '.join(FAULT_KINDS)}")
        if self.alarm is not None and self.down_for is None:
            raise ValueError("alarm goes with down_for")
        if self.buffered and self.silent_for is None:
            raise ValueError("buffered goes with silent_for")
        if self.held and self.down_for is None:
            raise ValueError("held goes with down_for")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in FAULT_KINDS if getattr(self, k) is not None)


class ExpectSpec(_Strict):
    """What must hold `within` plant time of the start, checked through the tracker's API."""

    within: Duration = Field(gt=0)
    # orders that get a late-order alert (at risk or late), and orders that never get one
    alerts: list[str] = []
    late: list[str] = []  # their alert reaches `late` (critical): the ETA passed the due date
    no_alerts: list[str] = []
    completed: list[str] = []
    progressed: list[str] = []  # some parts made


class Scenario(_Strict):
    """A simulated plant, its orders, faults and expected outcome."""

    name: Name
    description: str = ""
    seed: int = 1
    speed: float = Field(default=1.0, gt=0, le=100_000)
    site: Name = "plant1"
    telemetry_interval: Duration = Field(default=10.0, gt=0)
    # every machine repeats its state this often (a keep-alive, as PLC bridges send)
    heartbeat: Duration = Field(default=300.0, gt=0)
    bridge: BridgeKind = "json"  # each machine's, unless it names its own
    machines: list[MachineSpec] = Field(min_length=1)
    work_centers: dict[Name, list[Name]] = {}
    orders: list[OrderSpec] = []
    faults: list[FaultSpec] = []
    expect: ExpectSpec | None = None
    # passed on to the tracker's plant file, which checks them (docs/oee.md, Downtime)
    reasons: dict[Name, dict[str, str]] = {}
    alarm_reasons: dict[str, Name] = {}

    def machine(self, machine_id: str) -> MachineSpec:
        return next(m for m in self.machines if m.id == machine_id)

    def bridge_of(self, spec: MachineSpec, default: BridgeKind | None = None) -> BridgeKind:
        """The machine's bridge kind: its own, else `default` (the command line's), else ours."""
        return spec.bridge or default or self.bridge

    def prefix_of(self, spec: MachineSpec) -> str:
        """The machine's PackML topic prefix, `Site/Area/Line`."""
        return spec.packml_prefix or f"{self.site}/{spec.line}/{spec.id}"

    def plant_file(self) -> dict[str, Any]:
        """The tracker's plant file for this plant: machines, counter wraps, lines, work centers,
        downtime reasons."""
        return {
            "machines": [
                {"id": m.id, "counter_wrap": m.wrap, "line": m.line} for m in self.machines
            ],
            "work_centers": {name: list(ms) for name, ms in self.work_centers.items()},
            **(
                {"reasons": self.reasons, "alarm_reasons": self.alarm_reasons}
                if self.reasons
                else {}
            ),
        }


def _references(s: Scenario) -> Iterator[tuple[Loc, str]]:
    """Names that must refer to something declared elsewhere in the file."""
    machines: set[str] = set()
    for i, m in enumerate(s.machines):
        if m.id in machines:
            yield ("machines", i, "id"), f"machine {m.id} is declared twice"
        machines.add(m.id)
    for center, members in s.work_centers.items():
        if center in machines:
            yield ("work_centers", center), f"{center} is already a machine"
        for i, name in enumerate(members):
            if name not in machines:
                yield ("work_centers", center, i), f"machine {name} is not in `machines`"
    targets = machines | set(s.work_centers)
    orders: set[str] = set()
    for i, order in enumerate(s.orders):
        if order.id in orders:
            yield ("orders", i, "id"), f"order {order.id} is declared twice"
        orders.add(order.id)
        seqs: set[int] = set()
        for k, op in enumerate(order.routing):
            if op.seq in seqs:
                yield ("orders", i, "routing", k, "seq"), f"operation {op.seq} is used twice"
            seqs.add(op.seq)
            if op.machine not in targets:
                yield (
                    ("orders", i, "routing", k, "machine"),
                    f"{op.machine} is neither a machine nor a work center",
                )
    prefixes: set[str] = set()
    for i, m in enumerate(s.machines):
        if s.bridge_of(m) in PACKML_KINDS:
            if s.prefix_of(m) in prefixes:
                yield (
                    ("machines", i, "packml_prefix"),
                    f"PackML prefix {s.prefix_of(m)} is used twice",
                )
            prefixes.add(s.prefix_of(m))
    for i, fault in enumerate(s.faults):
        if fault.machine not in machines:
            yield ("faults", i, "machine"), f"machine {fault.machine} is not in `machines`"
        elif s.bridge_of(s.machine(fault.machine)) not in PACKML_KINDS:
            for key in BRIDGE_FAULTS:
                if getattr(fault, key) not in (None, False):
                    yield ("faults", i, key), f"{key} needs a PackML bridge on {fault.machine}"
    if s.expect is not None:
        for field in ("alerts", "late", "no_alerts", "completed", "progressed"):
            for k, order_id in enumerate(getattr(s.expect, field)):
                if order_id not in orders:
                    yield ("expect", field, k), f"order {order_id} is not in `orders`"


class ScenarioError(YamlFileError):
    """A scenario file that cannot be used; one `path:line: where: message` per line."""


def parse_scenario(text: str, path: Path) -> Scenario:
    """Validate a scenario's text; raise ScenarioError listing every problem with its line."""
    return parse_yaml(text, path, Scenario, _references, ScenarioError)


def load_scenario(path: Path | str) -> Scenario:
    """A scenario file, or a built-in scenario by name (`demo`)."""
    if isinstance(path, str) and "/" not in path and not path.endswith((".yaml", ".yml")):
        source = resources.files("device_sim.scenarios").joinpath(f"{path}.yaml")
        if not source.is_file():
            known = sorted(
                p.name.removesuffix(".yaml")
                for p in resources.files("device_sim.scenarios").iterdir()
                if p.name.endswith(".yaml")
            )
            raise ScenarioError(Path(path), [Problem(None, "", f"no built-in scenario {known}")])
        return parse_scenario(source.read_text(encoding="utf-8"), Path(f"<built-in {path}>"))
    return read_yaml(Path(path), Scenario, _references, ScenarioError)

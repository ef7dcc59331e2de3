"""The plant file: YAML declaring machines, work centers and product templates.

Validated with pydantic; every problem is reported with the file's path and the line it is on
(taken from the YAML node marks), so `shopfloor tracker` stops with `plant.yaml:14: ...`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from shopfloor.yaml_file import Loc, YamlFileError, read_yaml
from tracker.domain.binding import Binding, OfflineRule, resolve
from tracker.domain.routing import (
    Condition,
    OperationTemplate,
    Option,
    Plant,
    ProductTemplate,
    TimeOverride,
)
from tracker.plant_calendars import CalendarFile, ZoneName, to_calendar
from tracker.plant_reasons import AlarmCode, ReasonFile, catalogue, reason_problems
from tracker.plant_reliability import ReliabilityFile, reliabilities, reliability_conflicts

# names end up in MQTT topics and in `machine=...;paint=...` option strings
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^/+#\s;=\[\]]+$")]
Value = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\s;=\[\]]+$")]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Values = Annotated[list[Value], BeforeValidator(_as_list), Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OverrideFile(_Strict):
    when: dict[Name, Values] = Field(min_length=1)
    setup_s: float | None = Field(default=None, ge=0, le=30 * 86400)
    cycle_s: float | None = Field(default=None, gt=0, le=7 * 86400)


class OperationFile(_Strict):
    seq: int = Field(ge=0, le=100_000)
    name: str = Field(min_length=1, max_length=100)
    work_center: Name
    setup_s: float = Field(default=0.0, ge=0, le=30 * 86400)
    cycle_s: float = Field(gt=0, le=7 * 86400)
    when: dict[Name, Values] = {}
    overrides: list[OverrideFile] = []


class OptionFile(_Strict):
    values: list[Value] = Field(min_length=1)
    default: Value | None = Field(default=None, description="the first value when not given")


class ProductFile(_Strict):
    options: dict[Name, OptionFile] = {}
    operations: list[OperationFile] = Field(min_length=1)


class MachineFile(_Strict):
    id: Name
    # the value the PLC's part counter wraps to 0 at (65536 for a 16-bit counter)
    counter_wrap: int | None = Field(default=None, gt=1, le=2**63)
    # where the machine's tags come from and what they mean: read by the gateway, not here
    source: dict[str, Any] | None = None
    # who binds its jobs, and whether silence makes it OFFLINE (None: its work center's)
    bind: Binding | None = None
    offline: OfflineRule | None = None
    # the production line it stands on (OEE per line); None: on no line
    line: Name | None = None
    # the machine's alarm codes and the downtime reason each gives (over the plant-wide map)
    alarm_reasons: dict[AlarmCode, Name] = {}
    # its prior for P(on time): MTBF, MTTR, spread (None: its work center's, else the settings')
    reliability: ReliabilityFile | None = None


def _as_machine(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class WorkCenterFile(_Strict):
    machines: list[Name] = Field(min_length=1)
    calendar: Name | None = None
    bind: Binding | None = None
    offline: OfflineRule | None = None
    reliability: ReliabilityFile | None = None


def _as_work_center(value: Any) -> Any:
    return {"machines": value} if isinstance(value, list) else value


class PlantFile(_Strict):
    # the plant's time zone (IANA name): every time shown to people (board, customer page,
    # reasons, alert texts) reads in it; the API answers UTC with offset
    timezone: ZoneName = "UTC"
    machines: list[Annotated[MachineFile, BeforeValidator(_as_machine)]] = []
    calendars: dict[Name, CalendarFile] = {}
    work_centers: dict[Name, Annotated[WorkCenterFile, BeforeValidator(_as_work_center)]] = {}
    products: dict[Name, ProductFile] = {}
    # downtime reasons by code, and the reason each alarm code gives on any machine
    reasons: dict[Name, ReasonFile] = {}
    alarm_reasons: dict[AlarmCode, Name] = {}


def _condition_problems(
    when: dict[str, list[str]], options: dict[str, OptionFile], loc: Loc
) -> Iterator[tuple[Loc, str]]:
    for name, values in when.items():
        if name not in options:
            yield (*loc, name), f"unknown option {name!r} (options: {', '.join(options) or 'none'})"
            continue
        for i, value in enumerate(values):
            if value not in options[name].values:
                allowed = ", ".join(options[name].values)
                yield (*loc, name, i), f"{value!r} is not a value of option {name} ({allowed})"


def _reference_problems(plant: PlantFile) -> Iterator[tuple[Loc, str]]:
    """What pydantic cannot see: names that must refer to something declared elsewhere."""
    seen: set[str] = set()
    for i, machine in enumerate(plant.machines):
        if machine.id in seen:
            yield ("machines", i), f"machine {machine.id} is declared twice"
        seen.add(machine.id)
    for center, work_center in plant.work_centers.items():
        for i, name in enumerate(work_center.machines):
            if name not in seen:
                yield (
                    ("work_centers", center, "machines", i),
                    f"machine {name} is not in `machines`",
                )
        if work_center.calendar is not None and work_center.calendar not in plant.calendars:
            known = ", ".join(plant.calendars) or "none"
            yield (
                ("work_centers", center, "calendar"),
                f"unknown calendar {work_center.calendar!r} (calendars: {known})",
            )
    yield from _setting_conflicts(plant)
    yield from reliability_conflicts(*_reliability_sources(plant))
    yield from reason_problems(plant.reasons, plant.alarm_reasons, plant.machines)
    for name, product in plant.products.items():
        base: Loc = ("products", name)
        for option_name, option in product.options.items():
            if len(set(option.values)) != len(option.values):
                yield (*base, "options", option_name, "values"), "repeats a value"
            if option.default is not None and option.default not in option.values:
                yield (
                    (*base, "options", option_name, "default"),
                    f"{option.default!r} is not one of the values ({', '.join(option.values)})",
                )
        seqs: set[int] = set()
        for i, op in enumerate(product.operations):
            op_loc: Loc = (*base, "operations", i)
            if op.seq in seqs:
                yield (*op_loc, "seq"), f"operation number {op.seq} is used twice"
            seqs.add(op.seq)
            if op.work_center not in plant.work_centers:
                known = ", ".join(plant.work_centers) or "none"
                yield (
                    (*op_loc, "work_center"),
                    f"unknown work center {op.work_center!r} (work centers: {known})",
                )
            yield from _condition_problems(op.when, product.options, (*op_loc, "when"))
            for k, override in enumerate(op.overrides):
                override_loc: Loc = (*op_loc, "overrides", k)
                yield from _condition_problems(
                    override.when, product.options, (*override_loc, "when")
                )
                if override.setup_s is None and override.cycle_s is None:
                    yield override_loc, "an override needs setup_s or cycle_s"


def _setting_conflicts(plant: PlantFile) -> Iterator[tuple[Loc, str]]:
    """A machine without its own `bind`/`offline` in two work centers that disagree on it."""
    own = {m.id: m for m in plant.machines}
    for key in ("bind", "offline"):
        first: dict[str, tuple[str, str]] = {}
        for center, work_center in plant.work_centers.items():
            value = getattr(work_center, key)
            for name in work_center.machines if value is not None else ():
                if name in own and getattr(own[name], key) is not None:
                    continue
                seen = first.setdefault(name, (center, value))
                if seen[1] != value:
                    yield (
                        ("work_centers", center, key),
                        f"machine {name} is also in {seen[0]} with {key}: {seen[1]}; "
                        f"set {key} on the machine",
                    )


def _condition(when: dict[str, list[str]]) -> Condition:
    return {name: frozenset(values) for name, values in when.items()}


def to_plant(plant: PlantFile) -> Plant:
    """The domain's view of a validated plant file."""
    products = {
        name: ProductTemplate(
            name=name,
            options=tuple(
                Option(option_name, tuple(o.values), o.default or o.values[0])
                for option_name, o in product.options.items()
            ),
            operations=tuple(
                OperationTemplate(
                    seq=op.seq,
                    name=op.name,
                    work_center=op.work_center,
                    setup_s=op.setup_s,
                    cycle_s=op.cycle_s,
                    when=_condition(op.when),
                    overrides=tuple(
                        TimeOverride(_condition(o.when), o.setup_s, o.cycle_s) for o in op.overrides
                    ),
                )
                for op in product.operations
            ),
        )
        for name, product in plant.products.items()
    }
    calendars = {name: to_calendar(name, c) for name, c in plant.calendars.items()}
    return Plant(
        machines=tuple(m.id for m in plant.machines),
        work_centers={name: tuple(wc.machines) for name, wc in plant.work_centers.items()},
        products=products,
        counter_wraps={m.id: m.counter_wrap for m in plant.machines if m.counter_wrap},
        calendars={
            name: calendars[wc.calendar]
            for name, wc in plant.work_centers.items()
            if wc.calendar is not None
        },
        bindings={m: Binding(v) for m, v in _per_machine(plant, "bind").items()},
        offline_rules={m: OfflineRule(v) for m, v in _per_machine(plant, "offline").items()},
        lines={m.id: m.line for m in plant.machines if m.line is not None},
        reasons=catalogue(plant.reasons, plant.alarm_reasons, plant.machines),
        timezone=plant.timezone,
        reliability=reliabilities(*_reliability_sources(plant)),
    )


def _reliability_sources(
    plant: PlantFile,
) -> tuple[dict[str, ReliabilityFile | None], dict[str, tuple[list[str], ReliabilityFile | None]]]:
    """Each machine's own reliability figures, and each work center's machines and figures."""
    own = {m.id: m.reliability for m in plant.machines}
    return own, {name: (wc.machines, wc.reliability) for name, wc in plant.work_centers.items()}


def _per_machine(plant: PlantFile, key: str) -> dict[str, str]:
    """A machine setting (`bind`, `offline`): the machine's own, else its work center's."""
    own = {m.id: getattr(m, key) for m in plant.machines if getattr(m, key) is not None}
    centers = ((wc.machines, getattr(wc, key)) for wc in plant.work_centers.values())
    return resolve(own, centers)


class PlantFileError(YamlFileError):
    """A plant file that cannot be used; `str()` gives one `path:line: where: message` per line."""


def load_plant(path: Path) -> Plant:
    """Read and validate the plant file at `path`."""
    return to_plant(read_yaml(path, PlantFile, _reference_problems, PlantFileError))

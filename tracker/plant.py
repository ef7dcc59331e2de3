"""The plant file: YAML declaring machines, work centers and product templates.

Validated with pydantic; every problem is reported with the file's path and the line it is on
(taken from the YAML node marks), so `shopfloor tracker` stops with `plant.yaml:14: ...`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from tracker.domain.routing import (
    Condition,
    OperationTemplate,
    Option,
    Plant,
    ProductTemplate,
    TimeOverride,
)
from tracker.plant_calendars import CalendarFile, to_calendar

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


def _as_machine(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class WorkCenterFile(_Strict):
    machines: list[Name] = Field(min_length=1)
    calendar: Name | None = None


def _as_work_center(value: Any) -> Any:
    return {"machines": value} if isinstance(value, list) else value


class PlantFile(_Strict):
    machines: list[Annotated[MachineFile, BeforeValidator(_as_machine)]] = []
    calendars: dict[Name, CalendarFile] = {}
    work_centers: dict[Name, Annotated[WorkCenterFile, BeforeValidator(_as_work_center)]] = {}
    products: dict[Name, ProductFile] = {}


Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    line: int | None
    where: str
    message: str


class PlantFileError(ValueError):
    """A plant file that cannot be used; `str()` gives one `path:line: where: message` per line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(
            "\n".join(
                f"{path}{'' if p.line is None else f':{p.line}'}: "
                f"{p.where + ': ' if p.where else ''}{p.message}"
                for p in problems
            )
        )


def _line(root: yaml.Node, loc: Sequence[str | int]) -> int:
    """1-based line of the deepest node `loc` reaches (a mapping key's line for a field)."""
    node, line = root, root.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node, line = value, key.start_mark.line
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _duplicate_keys(node: yaml.Node, loc: Loc = ()) -> Iterator[tuple[Loc, int, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                yield loc, key.start_mark.line + 1, f"duplicate key {name!r}"
            seen.add(name)
            yield from _duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, i))


def _where(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)


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
    )


def parse_plant(text: str, path: Path) -> Plant:
    """Validate a plant file's text; raise PlantFileError listing every problem with its line."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        raise PlantFileError(path, [Problem(line, "", f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise PlantFileError(path, [Problem(None, "", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise PlantFileError(path, [Problem(None, "", "is empty")])
    problems = [Problem(line, _where(loc), msg) for loc, line, msg in _duplicate_keys(root)]
    try:
        validated = PlantFile.model_validate(data)
    except ValidationError as exc:
        problems += [
            Problem(_line(root, err["loc"]), _where(err["loc"]), err["msg"]) for err in exc.errors()
        ]
    else:
        problems += [
            Problem(_line(root, loc), _where(loc), msg)
            for loc, msg in _reference_problems(validated)
        ]
    if problems:
        raise PlantFileError(path, sorted(problems, key=lambda p: p.line or 0))
    return to_plant(validated)


def load_plant(path: Path) -> Plant:
    """Read and validate the plant file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlantFileError(path, [Problem(None, "", f"cannot be read: {exc}")]) from None
    return parse_plant(text, path)

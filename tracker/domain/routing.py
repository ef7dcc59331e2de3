"""Product templates (configure-to-order): a product, its options and a quantity give a routing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .binding import Binding, OfflineRule
from .commands import OperationSpec
from .downtime import ReasonCatalogue
from .foresight.priors import Reliability
from .model import DomainError
from .planning.model import ALWAYS, Calendar

# which values of which options an operation or an override applies to; empty = always
Condition = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Option:
    """A configurable option of a product, its allowed values and the value when none is given."""

    name: str
    values: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class TimeOverride:
    """Setup or cycle time that replaces an operation's own when the options match."""

    when: Condition
    setup_s: float | None = None
    cycle_s: float | None = None


@dataclass(frozen=True)
class OperationTemplate:
    """One step of a product's routing on a work center, included when the options match."""

    seq: int
    name: str
    work_center: str
    setup_s: float
    cycle_s: float
    when: Condition = field(default_factory=dict)
    overrides: tuple[TimeOverride, ...] = ()


@dataclass(frozen=True)
class ProductTemplate:
    """A product that can be ordered by name, options and quantity."""

    name: str
    operations: tuple[OperationTemplate, ...]
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Plant:
    """Machines, work centers (groups of interchangeable machines) and product templates."""

    machines: tuple[str, ...] = ()
    work_centers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    products: Mapping[str, ProductTemplate] = field(default_factory=dict)
    # the value each machine's PLC part counter wraps to 0 at (65536 for 16 bits)
    counter_wraps: Mapping[str, int] = field(default_factory=dict)
    # the shift calendar of each work center that has one (the others work 24/7)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    # who binds each machine's jobs and its offline rule, where the plant file says
    bindings: Mapping[str, Binding] = field(default_factory=dict)
    offline_rules: Mapping[str, OfflineRule] = field(default_factory=dict)
    # the production line of each machine that names one (OEE per line)
    lines: Mapping[str, str] = field(default_factory=dict)
    # downtime reasons and the reason each machine's alarm codes give
    reasons: ReasonCatalogue = field(default_factory=ReasonCatalogue)
    # the plant's IANA time zone: times for people read in it
    timezone: str = "UTC"
    # each machine's failure, repair and spread figures where the plant file gives them
    # (its own, else its work center's): its prior for P(on time)
    reliability: Mapping[str, Reliability] = field(default_factory=dict)

    def machines_for(self, name: str) -> tuple[str, ...]:
        """The machines that can work an operation routed to `name` (a work center or a machine).

        A name the plant does not declare is taken as a machine of its own, so orders with
        explicit machine names plan without a plant file.
        """
        return self.work_centers.get(name, (name,))

    def calendar_of(self, machine: str) -> Calendar:
        """The calendar of the (first) work center the machine belongs to; 24/7 without one."""
        for center, machines in self.work_centers.items():
            if machine in machines and center in self.calendars:
                return self.calendars[center]
        return ALWAYS


@dataclass(frozen=True)
class Routing:
    """An expanded routing: every option resolved (defaults filled in) and the operations."""

    product: str
    options: Mapping[str, str]
    operations: tuple[OperationSpec, ...]

    @property
    def label(self) -> str:
        """The product with its options, as stored on the order: `bracket [paint=powder]`."""
        if not self.options:
            return self.product
        return f"{self.product} [{';'.join(f'{k}={v}' for k, v in self.options.items())}]"


class RoutingError(DomainError):
    """A product or options the plant does not define; `problems` are (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def _matches(when: Condition, options: Mapping[str, str]) -> bool:
    return all(options.get(name) in values for name, values in when.items())


def _resolve(template: ProductTemplate, given: Mapping[str, str]) -> dict[str, str]:
    declared = {option.name: option for option in template.options}
    problems = []
    for name, value in given.items():
        option = declared.get(name)
        if option is None:
            known = ", ".join(declared) or "none"
            problems.append(
                (
                    f"options.{name}",
                    f"{template.name} has no option {name!r} (its options: {known})",
                )
            )
        elif value not in option.values:
            problems.append(
                (
                    f"options.{name}",
                    f"{value!r} is not a value of option {name} of {template.name}; "
                    f"allowed: {', '.join(option.values)}",
                )
            )
    if problems:
        raise RoutingError(problems)
    return {option.name: given.get(option.name, option.default) for option in template.options}


def expand(plant: Plant, product: str, options: Mapping[str, str], quantity: int) -> Routing:
    """The routing of `quantity` units of `product` configured with `options`."""
    if quantity < 1:
        raise RoutingError([("quantity", f"quantity must be at least 1, not {quantity}")])
    template = plant.products.get(product)
    if template is None:
        known = ", ".join(sorted(plant.products))
        choices = f"one of the plant's products ({known})" if known else "a plant file"
        raise RoutingError(
            [("product", f"unknown product {product!r}: give operations, or {choices}")]
        )
    resolved = _resolve(template, options)
    specs = []
    for op in template.operations:
        if not _matches(op.when, resolved):
            continue
        setup_s, cycle_s = op.setup_s, op.cycle_s
        for override in op.overrides:
            if _matches(override.when, resolved):
                setup_s = setup_s if override.setup_s is None else override.setup_s
                cycle_s = cycle_s if override.cycle_s is None else override.cycle_s
        specs.append(OperationSpec(op.seq, op.name, op.work_center, setup_s, cycle_s))
    if not specs:
        raise RoutingError([("options", f"these options leave {product} with no operation")])
    return Routing(product, resolved, tuple(sorted(specs, key=lambda s: s.seq)))

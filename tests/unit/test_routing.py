"""Product templates expand into routings: options include operations and override times."""

from __future__ import annotations

import pytest

from tracker.domain.commands import OperationSpec
from tracker.domain.routing import (
    OperationTemplate,
    Option,
    Plant,
    ProductTemplate,
    RoutingError,
    TimeOverride,
    expand,
)

PAINTS = frozenset({"powder", "wet"})

BRACKET = ProductTemplate(
    name="bracket",
    options=(Option("paint", ("none", "powder", "wet"), "none"), Option("size", ("S", "L"), "S")),
    operations=(
        OperationTemplate(20, "weld", "weld", 600, 90),
        OperationTemplate(
            10, "cut", "cut", 300, 45, overrides=(TimeOverride({"size": {"L"}}, None, 60),)
        ),
        OperationTemplate(
            30,
            "paint",
            "paint",
            900,
            60,
            when={"paint": PAINTS},
            overrides=(TimeOverride({"paint": frozenset({"wet"})}, setup_s=600, cycle_s=40),),
        ),
        OperationTemplate(35, "cure", "paint", 0, 20, when={"paint": frozenset({"powder"})}),
    ),
)
PLANT = Plant(
    machines=("saw-1", "weld-1", "paint-1"),
    work_centers={"cut": ("saw-1",), "weld": ("weld-1",), "paint": ("paint-1",)},
    products={"bracket": BRACKET},
)


def test_defaults_fill_in_missing_options_and_skip_conditional_operations() -> None:
    routing = expand(PLANT, "bracket", {}, 10)
    assert routing.options == {"paint": "none", "size": "S"}
    assert routing.operations == (
        OperationSpec(10, "cut", "cut", 300, 45),
        OperationSpec(20, "weld", "weld", 600, 90),
    )
    assert routing.label == "bracket [paint=none;size=S]"


def test_powder_paint_adds_paint_and_cure() -> None:
    routing = expand(PLANT, "bracket", {"paint": "powder"}, 10)
    assert [(op.seq, op.name, op.machine) for op in routing.operations] == [
        (10, "cut", "cut"),
        (20, "weld", "weld"),
        (30, "paint", "paint"),
        (35, "cure", "paint"),
    ]


def test_matching_overrides_replace_setup_and_cycle_times() -> None:
    routing = expand(PLANT, "bracket", {"paint": "wet", "size": "L"}, 10)
    ops = {op.name: op for op in routing.operations}
    assert (ops["paint"].setup_s, ops["paint"].cycle_s) == (600, 40)
    assert (ops["cut"].setup_s, ops["cut"].cycle_s) == (300, 60)  # only the cycle overridden
    assert "cure" not in ops


def test_unknown_option_value_names_the_allowed_ones() -> None:
    with pytest.raises(RoutingError) as info:
        expand(PLANT, "bracket", {"paint": "gloss"}, 1)
    assert info.value.problems == [
        (
            "options.paint",
            "'gloss' is not a value of option paint of bracket; allowed: none, powder, wet",
        )
    ]


def test_every_bad_option_is_reported() -> None:
    with pytest.raises(RoutingError) as info:
        expand(PLANT, "bracket", {"paint": "gloss", "colour": "red"}, 1)
    fields = [where for where, _ in info.value.problems]
    assert fields == ["options.paint", "options.colour"]
    assert "its options: paint, size" in str(info.value)


def test_unknown_product_names_the_known_ones() -> None:
    with pytest.raises(RoutingError, match=r"unknown product 'widget'.*\(bracket\)") as info:
        expand(PLANT, "widget", {}, 1)
    assert info.value.problems[0][0] == "product"


def test_without_a_plant_file_every_product_is_unknown() -> None:
    with pytest.raises(RoutingError, match="give operations, or a plant file"):
        expand(Plant(), "bracket", {}, 1)


def test_quantity_must_be_positive() -> None:
    with pytest.raises(RoutingError) as info:
        expand(PLANT, "bracket", {}, 0)
    assert info.value.problems[0][0] == "quantity"


def test_options_that_leave_no_operation_are_an_error() -> None:
    only_paint = ProductTemplate(
        "panel",
        (OperationTemplate(10, "paint", "paint", 0, 5, when={"paint": PAINTS}),),
        (Option("paint", ("none", "wet"), "none"),),
    )
    with pytest.raises(RoutingError, match="no operation"):
        expand(Plant(products={"panel": only_paint}), "panel", {}, 1)


def test_a_product_without_options_keeps_its_plain_name() -> None:
    plain = ProductTemplate("pin", (OperationTemplate(10, "cut", "cut", 0, 5),))
    assert expand(Plant(products={"pin": plain}), "pin", {}, 3).label == "pin"

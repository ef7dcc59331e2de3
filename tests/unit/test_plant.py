"""The plant file: the example loads, and every problem is reported as path:line."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from tracker.domain.routing import expand
from tracker.plant import PlantFileError, load_plant

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plant.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(PlantFileError) as info:
        load_plant(path)
    return str(info.value).splitlines()


GOOD = """
machines: [saw-1, weld-1]
work_centers:
  cut: [saw-1]
  weld: [weld-1]
products:
  bracket:
    options:
      paint: {values: [none, powder]}
    operations:
      - {seq: 10, name: cut, work_center: cut, setup_s: 300, cycle_s: 45}
      - seq: 20
        name: weld
        work_center: weld
        cycle_s: 90
"""


def test_the_example_plant_file_loads() -> None:
    plant = load_plant(EXAMPLE)
    assert plant.machines[:5] == ("saw-1", "saw-2", "weld-1", "paint-1", "asm-1")
    assert plant.machines[5:] == ("cnc-1", "lathe-1", "press-1")  # the demo's (compose sim)
    assert plant.work_centers["cut"] == ("saw-1", "saw-2")
    assert set(plant.work_centers) == {"cut", "weld", "paint", "assembly"}
    names = {
        paint: [op.name for op in expand(plant, "bracket", {"paint": paint}, 1).operations]
        for paint in ("none", "powder", "wet")
    }
    assert names == {
        "none": ["cut", "weld", "assemble"],
        "powder": ["cut", "weld", "paint", "cure", "assemble"],
        "wet": ["cut", "weld", "paint", "assemble"],
    }


def test_a_good_file_gives_the_first_value_as_default(tmp_path: Path) -> None:
    plant = load_plant(_write(tmp_path, GOOD))
    assert plant.products["bracket"].options[0].default == "none"
    assert plant.products["bracket"].operations[1].setup_s == 0.0


def test_a_bad_value_is_reported_on_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("cycle_s: 90", "cycle_s: -1"))
    assert _errors(path) == [
        f"{path}:14: products.bracket.operations.1.cycle_s: Input should be greater than 0"
    ]


def test_every_schema_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("        cycle_s: 90", "        colour: red").replace(
        "setup_s: 300", "setup_s: fast"
    )
    errors = _errors(_write(tmp_path, text))
    assert [e.split(": ")[0].rsplit(":", 1)[1] for e in errors] == ["10", "11", "14"]
    assert "operations.0.setup_s: Input should be a valid number" in errors[0]
    assert "operations.1.cycle_s: Field required" in errors[1]  # the item's first line
    assert "operations.1.colour: Extra inputs are not permitted" in errors[2]


def test_references_to_undeclared_names_are_reported_on_their_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        machines: [saw-1, saw-1]
        work_centers:
          cut: [saw-1, saw-9]
        products:
          bracket:
            options:
              paint: {values: [none, powder], default: gloss}
            operations:
              - {seq: 10, name: cut, work_center: cut, cycle_s: 45}
              - {seq: 10, name: weld, work_center: weld, cycle_s: 90}
              - seq: 30
                name: paint
                work_center: cut
                cycle_s: 5
                when: {paint: [wet], size: L}
        """,
    )
    assert _errors(path) == [
        f"{path}:1: machines.1: machine saw-1 is declared twice",
        f"{path}:3: work_centers.cut.machines.1: machine saw-9 is not in `machines`",
        f"{path}:7: products.bracket.options.paint.default: "
        "'gloss' is not one of the values (none, powder)",
        f"{path}:10: products.bracket.operations.1.seq: operation number 10 is used twice",
        f"{path}:10: products.bracket.operations.1.work_center: "
        "unknown work center 'weld' (work centers: cut)",
        f"{path}:15: products.bracket.operations.2.when.paint.0: "
        "'wet' is not a value of option paint (none, powder)",
        f"{path}:15: products.bracket.operations.2.when.size: "
        "unknown option 'size' (options: paint)",
    ]


def test_override_conditions_are_checked(tmp_path: Path) -> None:
    text = GOOD.replace(
        "        cycle_s: 90",
        "        cycle_s: 90\n        overrides:\n          - {when: {paint: wet}, cycle_s: 5}"
        "\n          - when: {paint: powder}",
    )
    errors = _errors(_write(tmp_path, text))
    assert errors[0].endswith(
        ":16: products.bracket.operations.1.overrides.0.when.paint.0: "
        "'wet' is not a value of option paint (none, powder)"
    )
    assert errors[1].endswith(
        ":17: products.bracket.operations.1.overrides.1: an override needs setup_s or cycle_s"
    )


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "machines: [saw-1\nproducts: {}\n")
    [error] = _errors(path)
    assert error.startswith(f"{path}:2: not valid YAML")


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("  weld: [weld-1]", "  cut: [weld-1]"))
    assert f"{path}:4: work_centers: duplicate key 'cut'" in _errors(path)


def test_a_file_that_is_not_a_mapping_or_is_missing(tmp_path: Path) -> None:
    assert _errors(_write(tmp_path, "- saw-1\n"))[0].startswith(f"{tmp_path / 'plant.yaml'}:1: ")
    assert _errors(_write(tmp_path, ""))[0].endswith(": is empty")
    missing = tmp_path / "nope.yaml"
    assert _errors(missing)[0].startswith(f"{missing}: cannot be read")


def test_the_tracker_stops_with_exit_2_and_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from launcher.tracker_command import cmd_tracker

    path = _write(tmp_path, GOOD.replace("cycle_s: 90", "cycle_s: -1"))
    monkeypatch.setenv("SHOPFLOOR_API_KEY", "0123456789abcdef-strong")
    monkeypatch.setenv("SHOPFLOOR_PLANT_FILE", str(path))
    monkeypatch.setenv("SHOPFLOOR_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    assert cmd_tracker(argparse.Namespace()) == 2
    assert f"bad plant file {path}:14: products.bracket.operations.1.cycle_s" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "never.db").exists()  # stopped before touching the database


def test_machines_may_name_their_line(tmp_path: Path) -> None:
    plant = load_plant(
        _write(
            tmp_path,
            """
            machines: [{id: saw-1, line: cutting}, saw-2]
            work_centers: {cut: [saw-1, saw-2]}
            """,
        )
    )
    assert plant.lines == {"saw-1": "cutting"}
    bad = _write(tmp_path, "machines: [{id: saw-1, line: 'a/b'}]\n")
    assert any("line" in e for e in _errors(bad))

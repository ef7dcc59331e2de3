"""Scenario files: durations, validation with lines, references, the built-in demo."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from device_sim.durations import parse_duration
from device_sim.scenario import ScenarioError, load_scenario, parse_scenario
from tracker.plant import load_plant

GOOD = """\
name: t
speed: 30
machines:
  - {id: m1, model: cnc_mill}
  - {id: m2, model: welding_robot, line: fab, counter_wrap: 1000}
work_centers:
  pair: [m1, m2]
orders:
  - id: A
    quantity: 3
    due: 1h
    routing:
      - {seq: 10, name: cut, machine: m1, cycle: 30s}
      - {seq: 20, name: weld, machine: pair, setup: 2m, cycle: 1m30s}
faults:
  - {at: 10m, machine: m2, down_for: 45m, alarm: WF-204}
  - {at: 1h, machine: m1, silent_for: 5m, buffered: true}
expect:
  within: 2h
  alerts: [A]
"""


def _errors(text: str, tmp_path: Path) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("45s", 45.0), ("10m", 600.0), ("1h30m", 5400.0), ("2.5h", 9000.0), ("0s", 0.0)],
)
def test_durations_read_as_plant_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10 minutes", "m", "-5s", True, "1d", None])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_good_scenario_reads_with_its_times_in_seconds(tmp_path: Path) -> None:
    scenario = parse_scenario(GOOD, tmp_path / "s.yaml")

    assert scenario.orders[0].routing[1].cycle == 90.0
    assert scenario.faults[0].kind == "down_for" and scenario.faults[0].down_for == 2700.0
    assert scenario.faults[1].kind == "silent_for" and scenario.faults[1].buffered
    assert scenario.machine("m2").wrap == 1000
    assert scenario.machine("m1").wrap == 65536  # the model's
    assert scenario.plant_file() == {
        "machines": [
            {"id": "m1", "counter_wrap": 65536, "line": "line1"},
            {"id": "m2", "counter_wrap": 1000, "line": "fab"},
        ],
        "work_centers": {"pair": ["m1", "m2"]},
    }


def test_an_unknown_model_is_named_with_its_line_and_the_known_ones(tmp_path: Path) -> None:
    text = GOOD.replace("model: welding_robot", "model: laser_cutter")

    errors = _errors(text, tmp_path)

    assert "s.yaml:5: machines.1: " in errors
    assert "unknown model 'laser_cutter'" in errors and "welding_robot" in errors


def test_references_to_undeclared_names_are_reported_on_their_lines(tmp_path: Path) -> None:
    text = (
        GOOD.replace("machine: pair", "machine: nowhere")
        .replace("machine: m2, down_for", "machine: m9, down_for")
        .replace("alerts: [A]", "alerts: [B]")
    )

    errors = _errors(text, tmp_path).splitlines()

    assert any(":14: orders.0.routing.1.machine: nowhere is neither" in e for e in errors)
    assert any(":16: faults.0.machine: machine m9 is not in `machines`" in e for e in errors)
    assert any(":20: expect.alerts.0: order B is not in `orders`" in e for e in errors)


def test_a_fault_needs_exactly_one_kind(tmp_path: Path) -> None:
    text = GOOD.replace("down_for: 45m, alarm: WF-204", "down_for: 45m, duplicate: 3")

    assert "exactly one of down_for" in _errors(text, tmp_path)


def test_a_fault_without_a_kind_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace(", down_for: 45m, alarm: WF-204", "")

    assert "s.yaml:16: faults.0" in _errors(text, tmp_path)


def test_typos_in_keys_are_refused_not_ignored(tmp_path: Path) -> None:
    text = GOOD.replace("down_for: 45m", "dwon_for: 45m")

    assert "dwon_for" in _errors(text, tmp_path)


def test_duplicate_machines_and_orders_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("{id: m2, model", "{id: m1, model")

    assert "machine m1 is declared twice" in _errors(text, tmp_path)


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    assert "s.yaml:4: not valid YAML" in _errors("name: t\nmachines:\n  - {id: [\n", tmp_path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path / "missing.yaml")


def test_an_unknown_built_in_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="demo"):
        load_scenario("nonesuch")


def test_the_built_in_demo_has_the_story_the_readme_tells() -> None:
    demo = load_scenario("demo")

    assert {m.model for m in demo.machines} == {
        "cnc_mill",
        "lathe",
        "press_brake",
        "welding_robot",
        "paint_line",
        "assembly_qa",
    }
    breakdown = next(f for f in demo.faults if f.kind == "down_for")
    slipping = next(o for o in demo.orders if o.id == "SO-1003")
    assert breakdown.machine in {op.machine for op in slipping.routing}
    rush = max(demo.orders, key=lambda o: o.priority)
    assert rush.at > 0 and rush.priority > 0
    assert demo.expect is not None and demo.expect.alerts == ["SO-1003"]


PACKML = """\
name: p
bridge: packml
machines:
  - {id: m1, model: cnc_mill, packml_prefix: "Greenville/Packaging/Line 1"}
  - {id: m2, model: cnc_mill, bridge: packml-sparkplug, packml_codes: simulator}
  - {id: m3, model: cnc_mill, bridge: json}
faults:
  - {at: 1m, machine: m1, down_for: 5m, held: true}
  - {at: 2m, machine: m1, reset: true}
  - {at: 3m, machine: m2, restart: true}
  - {at: 4m, machine: m2, crash_for: 30s}
"""


def test_machines_are_played_as_packml_bridges_under_their_prefix(tmp_path: Path) -> None:
    from device_sim.packml_bridge import BridgeSpec
    from device_sim.simulation import Simulation

    sim = Simulation.from_scenario(parse_scenario(PACKML, tmp_path / "s.yaml"), None)

    assert sim.packml == {
        "m1": BridgeSpec(False, "Greenville/Packaging/Line 1"),
        "m2": BridgeSpec(True, "plant1/line1/m2", "simulator"),
    }
    assert sim.packml["m1"].levels == ("Greenville", "Packaging", "Line 1")


def test_the_command_line_bridge_replaces_the_scenarios_default_only(tmp_path: Path) -> None:
    from device_sim.simulation import Simulation

    scenario = parse_scenario(PACKML, tmp_path / "s.yaml")
    sim = Simulation.from_scenario(scenario, None, bridge="packml-sparkplug")

    assert sim.packml["m1"].sparkplug and "m3" not in sim.packml


def test_bridge_faults_need_a_packml_bridge(tmp_path: Path) -> None:
    text = PACKML.replace("machine: m1, reset", "machine: m3, reset")

    assert "reset needs a PackML bridge on m3" in _errors(text, tmp_path)


def test_held_goes_with_a_breakdown(tmp_path: Path) -> None:
    text = PACKML.replace("reset: true", "reset: true, held: true")

    assert "held goes with down_for" in _errors(text, tmp_path)


@pytest.mark.parametrize("prefix", ["Site/Area", "a/b/c/d", "S/A/#", "S/+/L"])
def test_a_packml_prefix_is_three_levels_without_wildcards(tmp_path: Path, prefix: str) -> None:
    text = PACKML.replace("Greenville/Packaging/Line 1", prefix)

    assert "packml_prefix" in _errors(text, tmp_path)


def test_two_bridges_cannot_share_a_prefix(tmp_path: Path) -> None:
    text = PACKML.replace("Greenville/Packaging/Line 1", "plant1/line1/m2")

    assert "PackML prefix plant1/line1/m2 is used twice" in _errors(text, tmp_path)


def test_the_demos_plant_file_gives_its_breakdown_a_reason(tmp_path: Path) -> None:
    # the demo writes this file for its tracker; the tracker's loader checks it
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(load_scenario("demo").plant_file(), sort_keys=False))
    reason = load_plant(path).reasons.reason_for_alarm("weld-1", "WF-204")
    assert reason is not None and reason.category == "material"

"""The plant twin at a live tracker's cadence (tests/data/scenarios/twin_match.yaml, the
scenario tests/e2e/test_twin_matches_services.py also plays on real services)."""

from __future__ import annotations

from pathlib import Path

from device_sim.scenario import Scenario, load_scenario
from launcher.twin.plant_twin import START, PlantTwin
from launcher.twin.traces import OperationDone

SCENARIO = Path(__file__).parent.parent / "data" / "scenarios" / "twin_match.yaml"
STEP_S = 6.0  # the simulator runner's 50 ms tick at 120x


def _play(
    scenario: Scenario, workdir: Path, debounce_s: float
) -> dict[tuple[str, int], OperationDone]:
    twin = PlantTwin(scenario, workdir, foresee=None)
    twin.run(step_s=STEP_S, replan_s=0.0, hold_s=0.0, debounce_s=debounce_s, check_s=1e6)
    return twin.tracker.operations()


def _first_start_s(ops: dict[tuple[str, int], OperationDone]) -> float:
    """When the first operation started (plant seconds from the start)."""
    return min((op.started_at - START).total_seconds() for op in ops.values() if op.started_at)


def test_work_goes_out_once_the_bus_has_been_quiet_for_the_debounce_and_alike_twice(
    tmp_path: Path,
) -> None:
    scenario = load_scenario(SCENARIO)
    at_once = _play(scenario, tmp_path, debounce_s=0.0)
    runs = [_play(scenario, tmp_path, debounce_s=30.0) for _ in range(2)]
    # the orders come at 0: planned at once (or 30 s later), taken by the machines a step on
    assert _first_start_s(at_once) == STEP_S
    assert _first_start_s(runs[0]) == 30.0 + STEP_S
    assert runs[0] == runs[1]
    assert all(op.completed_at is not None for op in runs[0].values())
    assert sum(op.scrap for op in runs[0].values()) > 0  # the random draws were made alike

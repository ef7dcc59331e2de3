"""Reliability figures in the plant file: a machine's own, its work center's, bounds with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.domain.foresight.priors import Reliability
from tracker.plant import PlantFileError, load_plant

PLANT = """
machines:
  - id: press-1
    reliability: {mtbf_h: 20, mttr_min: 120, duration_cv: 0.08}
  - id: press-2
    reliability: {mttr_min: 45}
  - laser-1
  - saw-1
work_centers:
  bend:
    machines: [press-1, press-2]
    reliability: {mtbf_h: 50, duration_cv: 0.1}
  laser: {machines: [laser-1], reliability: {mtbf_h: 200}}
  cut: [saw-1]
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    """The file written, and the lines of the error loading it gives."""
    path = _file(tmp_path, text)
    with pytest.raises(PlantFileError) as info:
        load_plant(path)
    return path, str(info.value).splitlines()


def test_machines_take_their_own_figures_else_their_work_centers_field_by_field(
    tmp_path: Path,
) -> None:
    plant = load_plant(_file(tmp_path, PLANT))
    assert plant.reliability == {
        "press-1": Reliability(mtbf_s=20 * 3600.0, mttr_s=7200.0, duration_cv=0.08),
        # its own repair time, the bend center's MTBF and spread
        "press-2": Reliability(mtbf_s=50 * 3600.0, mttr_s=2700.0, duration_cv=0.1),
        "laser-1": Reliability(mtbf_s=200 * 3600.0),
    }
    assert "saw-1" not in plant.reliability  # the settings' prior


def test_the_bounds_are_checked_and_reported_on_their_lines(tmp_path: Path) -> None:
    text = (
        PLANT.replace("mtbf_h: 20,", "mtbf_h: 0,")
        .replace("mttr_min: 45", "mttr_min: 50000")
        .replace("duration_cv: 0.1", "duration_cv: -0.1")
        .replace("mtbf_h: 200", "mtbf_h: 90000")
    )
    path, problems = _problems(tmp_path, text)
    assert problems == [
        f"{path}:3: machines.0.reliability.mtbf_h: Value error, must be more than 0 and at most "
        "87,600 h (10 years), not 0",
        f"{path}:5: machines.1.reliability.mttr_min: Value error, must be more than 0 and at most "
        "43,200 min (30 days), not 50000",
        f"{path}:11: work_centers.bend.reliability.duration_cv: Value error, must be from 0 and at "
        "most 2, not -0.1",
        f"{path}:12: work_centers.laser.reliability.mtbf_h: Value error, must be more than 0 and "
        "at most 87,600 h (10 years), not 90000",
    ]


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        ("{}", "reliability: Value error, give at least one of mtbf_h, mttr_min, duration_cv"),
        ("{mtbf_h: yes}", "reliability.mtbf_h: Input should be a valid number"),
        ('{mtbf_h: "20"}', "reliability.mtbf_h: Input should be a valid number"),
        ("{mtbf: 20}", "reliability.mtbf: Extra inputs are not permitted"),
        ("{duration_cv: 2.5}", "reliability.duration_cv: Value error, must be from 0 and at most"),
        ("{mttr_min: .nan}", "reliability.mttr_min: Value error, must be more than 0"),
    ],
)
def test_a_bad_figure_names_its_line(tmp_path: Path, figures: str, message: str) -> None:
    path, [error] = _problems(tmp_path, PLANT.replace("{mtbf_h: 200}", figures))
    assert error.startswith(f"{path}:12: work_centers.laser.{message}")


def test_two_work_centers_that_disagree_on_a_machine_without_its_own_figure(
    tmp_path: Path,
) -> None:
    spare = "  spare: {machines: [press-2, laser-1], reliability: {mtbf_h: 50, mttr_min: 90}}\n"
    path, problems = _problems(tmp_path, PLANT + spare)
    # press-2 agrees with bend on MTBF and has its own repair time; laser-1 has neither
    assert problems == [
        f"{path}:14: work_centers.spare.reliability.mtbf_h: machine laser-1 is also in laser "
        "with mtbf_h: 200; set reliability on the machine",
    ]

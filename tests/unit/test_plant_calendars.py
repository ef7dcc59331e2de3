"""Shift calendars and counter wraps in the plant file: parsed into the domain, errors on lines."""

from __future__ import annotations

import textwrap
from datetime import date, time
from pathlib import Path

import pytest

from tracker.domain.planning.model import ALWAYS, Shift
from tracker.plant import PlantFileError, load_plant

PLANT = """
machines:
  - saw-1
  - {id: saw-2, counter_wrap: 65536}
  - weld-1
calendars:
  two-shifts:
    timezone: Europe/Berlin
    shifts:
      - {days: mon-fri, start: "06:00", end: "22:00"}
      - {days: [sat], start: "06:00", end: "12:00"}
    breaks:
      - {days: mon-fri, start: "12:00", end: "12:30"}
    holidays: [2026-12-24, 2026-12-25]
  nights:
    shifts:
      - {days: [fri-mon], start: "22:00", end: "06:00"}
work_centers:
  cut: {machines: [saw-1, saw-2], calendar: two-shifts}
  weld: [weld-1]
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "plant.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_plant(path)


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(PlantFileError) as info:
        _load(tmp_path, text)
    return str(info.value).splitlines()


def test_work_center_calendars_and_counter_wraps_reach_the_plant(tmp_path: Path) -> None:
    plant = load_plant(_path(tmp_path, PLANT))
    assert plant.machines == ("saw-1", "saw-2", "weld-1")
    assert plant.counter_wraps == {"saw-2": 65536}
    cut = plant.calendars["cut"]
    assert cut.name == "two-shifts" and cut.timezone == "Europe/Berlin"
    assert cut.shifts[0] == Shift(frozenset(range(5)), time(6), time(22))
    assert cut.shifts[1].days == frozenset({5})
    assert cut.breaks == (Shift(frozenset(range(5)), time(12), time(12, 30)),)
    assert cut.holidays == frozenset({date(2026, 12, 24), date(2026, 12, 25)})
    assert plant.calendar_of("saw-2") is cut
    # no calendar: the work center works around the clock
    assert plant.calendar_of("weld-1") is ALWAYS
    assert "weld" not in plant.calendars


def test_day_ranges_wrap_over_the_weekend(tmp_path: Path) -> None:
    text = PLANT.replace(
        "cut: {machines: [saw-1, saw-2], calendar: two-shifts}",
        "cut: {machines: [saw-1, saw-2], calendar: nights}",
    )
    plant = load_plant(_path(tmp_path, text))
    assert plant.calendars["cut"].shifts[0].days == frozenset({4, 5, 6, 0})
    assert plant.calendars["cut"].timezone == "UTC"


def test_machines_for_a_work_center_or_a_plain_machine(tmp_path: Path) -> None:
    plant = load_plant(_path(tmp_path, PLANT))
    assert plant.machines_for("cut") == ("saw-1", "saw-2")
    assert plant.machines_for("press-7") == ("press-7",)


def test_calendar_mistakes_are_reported_on_their_lines(tmp_path: Path) -> None:
    text = (
        PLANT.replace("days: mon-fri, start", "days: monday-fri, start", 1)
        .replace("Europe/Berlin", "Europe/Atlantis")
        .replace('end: "12:00"}', 'end: "25:00"}', 1)
    )
    errors = _errors(tmp_path, text)
    path = tmp_path / "plant.yaml"
    assert any(
        e.startswith(f"{path}:7: calendars.two-shifts.timezone:") and "Europe/Atlantis" in e
        for e in errors
    ), errors
    assert any(
        e.startswith(f"{path}:9: calendars.two-shifts.shifts.0.days:") and "monday-fri" in e
        for e in errors
    ), errors
    assert any(e.startswith(f"{path}:10: calendars.two-shifts.shifts.1.end:") for e in errors)


def test_a_work_center_names_a_declared_calendar(tmp_path: Path) -> None:
    errors = _errors(tmp_path, PLANT.replace("calendar: two-shifts", "calendar: three-shifts"))
    assert errors == [
        f"{tmp_path / 'plant.yaml'}:18: work_centers.cut.calendar: unknown calendar "
        "'three-shifts' (calendars: two-shifts, nights)"
    ]


def test_a_counter_wrap_must_be_a_positive_count(tmp_path: Path) -> None:
    errors = _errors(tmp_path, PLANT.replace("counter_wrap: 65536", "counter_wrap: -5"))
    assert any(
        e.startswith(f"{tmp_path / 'plant.yaml'}:3: machines.1.counter_wrap:") for e in errors
    )


def test_a_calendar_needs_a_shift(tmp_path: Path) -> None:
    text = "machines: [a]\ncalendars:\n  empty: {shifts: []}\n"
    [error] = _errors(tmp_path, text)
    assert error.startswith(f"{tmp_path / 'plant.yaml'}:3: calendars.empty.shifts:")


def _path(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path

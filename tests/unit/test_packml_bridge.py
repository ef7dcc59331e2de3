"""A machine's PackML tags as a bridge publishes them (device_sim/packml_bridge.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from device_sim.jobs import Job
from device_sim.machine import SimMachine
from device_sim.models import CNC_MILL
from device_sim.packml_bridge import (
    ALARM_MESSAGE,
    ALARM_TRIGGER,
    STATE,
    STATE_STR,
    STOP_REASON,
    PackmlBridge,
    Tag,
    counter_tag,
    js_text,
)
from shopfloor.contract.payloads import AlarmEvent

T0 = datetime(2026, 3, 2, 6, tzinfo=UTC)
PROCESSED, CONSUMED = counter_tag("Processed", "Count"), counter_tag("Consumed", "Count")
PROCESSED_ACC = counter_tag("Processed", "AccCount")
# a breakdown and its repair, back to work
REPAIRED = "Aborting Aborted Clearing Stopped Resetting Idle Starting Execute".split()


class Rig:
    """A machine with one job and its bridge, stepped together one plant second at a time."""

    def __init__(self, quantity: int = 20, scrap_rate: float = 0.0, **bridge: object) -> None:
        job = Job("SO-1", 10, "m1", quantity, cycle_s=10.0)
        self.machine = SimMachine(
            "m1", random.Random(3), [job], scrap_rate=scrap_rate, model=CNC_MILL
        )
        self.bridge = PackmlBridge(
            self.machine,
            random.Random(4),
            transition_s=(1.0, 1.0),
            **bridge,  # type: ignore[arg-type]
        )
        self.t = 0
        self.tags: list[Tag] = []

    def run(self, seconds: int) -> list[Tag]:
        out: list[Tag] = []
        for _ in range(seconds):
            now = T0 + timedelta(seconds=self.t)
            hold = self.bridge.holds()
            for _kind, model in self.machine.step(now, 1.0, lambda _j: True, hold=hold):
                if isinstance(model, AlarmEvent):
                    self.bridge.alarm(model)
            out += self.bridge.step(1.0)
            self.t += 1
        self.tags += out
        return out

    def states(self, tags: list[Tag] | None = None) -> list[object]:
        return [v for n, v in (self.tags if tags is None else tags) if n == STATE_STR]

    def values(self, name: str) -> list[object]:
        return [v for n, v in self.tags if n == name]

    def break_down(self, seconds: float, held: bool = False) -> None:
        self.bridge.held = held
        alarm = CNC_MILL.alarms[0]
        out: list[tuple[str, object]] = []
        self.machine.break_down(T0, seconds, alarm, out)  # type: ignore[arg-type]
        for _kind, model in out:
            if isinstance(model, AlarmEvent):
                self.bridge.alarm(model)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (100.0, "100"),
        (6, "6"),
        (100 / 60, "1.6666666666666667"),
        (228.18, "228.18"),
        (0.00001, "0.00001"),
        (1e-7, "1e-7"),
        (-0.0, "0"),
        (True, "true"),
        ("Execute", "Execute"),
    ],
)
def test_values_are_written_as_javascript_writes_numbers(value: object, text: str) -> None:
    assert js_text(value) == text  # type: ignore[arg-type]


def test_the_first_scan_publishes_every_tag_as_the_reference_does() -> None:
    rig = Rig()
    tags = rig.run(1)
    first = dict(tags)
    assert first["Status/UnitModeCurrent"] == 1
    assert first["Status/UnitModeCurrentStr"] == "Production"
    assert first[counter_tag("Processed", "ID")] == 3
    assert first[counter_tag("Processed", "Name")] == "Finished Goods"
    assert first[counter_tag("Defective", "Name")] == "Scrap"
    assert first[counter_tag("Consumed", "Unit")] == "Each"
    assert first["Status/MachSpeed"] == 6.0  # parts a minute of a 10 s cycle
    assert rig.states()[:2] == ["Clearing", "Stopped"]  # it boots, then work resets it
    assert [v for n, v in tags if n == STATE][:2] == [1, 2]


def test_only_changes_are_published() -> None:
    rig = Rig(quantity=1)
    rig.run(60)  # the job is done, the unit waits
    assert rig.run(30) == []


def test_work_runs_the_unit_through_reset_and_start_to_execute_then_suspends_it() -> None:
    rig = Rig(quantity=3)
    rig.run(60)
    assert rig.states() == ["Clearing", *REPAIRED[3:], "Suspending", "Suspended"]


def test_the_simulator_numbering_swaps_idle_and_clearing() -> None:
    rig = Rig(codes="simulator")
    rig.run(5)
    codes = dict(zip(rig.values(STATE_STR), rig.values(STATE), strict=True))
    assert codes["Clearing"] == 4 and codes["Idle"] == 1 and codes["Execute"] == 6


def test_counts_are_fractional_while_a_part_is_made_and_whole_when_it_is_done() -> None:
    rig = Rig(quantity=5)
    rig.run(60)
    counts = [float(v) for v in rig.values(PROCESSED_ACC)]  # type: ignore[arg-type]
    assert any(not c.is_integer() for c in counts)
    assert counts[-1] == 5 == rig.machine.counter
    assert counts == sorted(counts)


def test_a_scrapped_part_is_never_counted_as_good_nor_taken_back() -> None:
    rig = Rig(quantity=40, scrap_rate=0.3)
    for _ in range(50):
        rig.run(10)
        made = rig.bridge.published[PROCESSED_ACC]
        assert int(made) == rig.machine.counter
    good = [float(v) for v in rig.values(PROCESSED_ACC)]  # type: ignore[arg-type]
    consumed = [float(v) for v in rig.values(counter_tag("Consumed", "AccCount"))]  # type: ignore[arg-type]
    assert good == sorted(good) and consumed == sorted(consumed)
    assert rig.bridge.published[counter_tag("Defective", "AccCount")] == rig.machine.scrap_counter
    assert rig.machine.scrap_counter > 0


def test_reset_zeroes_count_but_not_acc_count() -> None:
    rig = Rig(quantity=100)
    rig.run(100)
    before = rig.bridge.published[PROCESSED_ACC]
    rig.bridge.reset()
    tags = rig.run(10)
    assert ["Stopping", "Stopped", "Resetting", "Idle", "Starting", "Execute"] == rig.states(tags)
    assert (PROCESSED, 0.0) in tags and (CONSUMED, 0.0) in tags
    assert all(v >= before for n, v in tags if n == PROCESSED_ACC)  # type: ignore[operator]
    assert rig.bridge.published[PROCESSED] < rig.bridge.published[PROCESSED_ACC]  # type: ignore[operator]


def test_a_restart_zeroes_acc_count_and_publishes_everything_again() -> None:
    rig = Rig(quantity=100)
    rig.run(100)
    assert rig.bridge.published[PROCESSED_ACC] > 5  # type: ignore[operator]
    rig.bridge.restart()
    tags = dict(rig.bridge.step(0.0))
    assert tags[PROCESSED_ACC] == 0.0 and tags[PROCESSED] == 0.0
    assert tags[STATE_STR] == "Clearing" and tags[counter_tag("Processed", "Name")]


def test_a_breakdown_aborts_with_its_alarm_and_the_repair_runs_the_unit_back_to_execute() -> None:
    rig = Rig(quantity=100)
    rig.run(30)
    rig.break_down(20.0)
    tags = rig.run(40)
    assert rig.states(tags) == REPAIRED
    first = dict(tags[:8])
    assert first[STOP_REASON] == 1  # the model's first alarm
    assert first[ALARM_MESSAGE] == "SP-301: spindle bearing temperature high"
    assert rig.values(ALARM_TRIGGER) == [True, False]
    assert (PROCESSED, 0.0) in tags  # the repair's Reset


def test_a_held_breakdown_holds_and_unholds() -> None:
    rig = Rig(quantity=100)
    rig.run(30)
    rig.break_down(20.0, held=True)
    assert rig.states(rig.run(40)) == ["Holding", "Held", "Unholding", "Execute"]


def test_the_machine_makes_parts_only_while_the_unit_executes() -> None:
    rig = Rig(quantity=100)
    rig.run(2)  # booting and resetting: the first cycle waits for Execute
    assert rig.machine.cycle_progress == 0.0 and rig.bridge.unit.state.text != "Execute"
    rig.run(200)
    # nothing was made before the Reset: Count and AccCount agree
    published = rig.bridge.published
    assert published[PROCESSED] == published[PROCESSED_ACC] > 10  # type: ignore[operator]


def test_the_tags_carry_no_order() -> None:
    rig = Rig(quantity=3)
    rig.run(60)
    assert not any("SO-1" in str(v) or "Order" in n for n, v in rig.tags)

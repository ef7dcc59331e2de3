"""What-if changes must name a machine or an open order the plant has (`what_if.check`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.domain.foresight.what_if import (
    ExtraShift,
    MachineDown,
    RaisePriority,
    RushOrder,
    UnknownTargets,
    check,
)
from tracker.domain.planning.model import PlanJob, PlanMachine

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)
JOBS = [PlanJob(order_id="SO-1", due_at=NOW, released_at=NOW, operations=())]
MACHINES = [PlanMachine("weld-1"), PlanMachine("weld-2")]


def test_changes_that_name_what_the_plant_has_pass() -> None:
    rush = RushOrder(PlanJob(order_id="RUSH-1", due_at=NOW, released_at=NOW, operations=()))
    check(
        JOBS,
        MACHINES,
        [
            MachineDown("weld-1", 60),
            ExtraShift(("weld-1", "weld-2")),
            RaisePriority("SO-1", 3),
            rush,
        ],
    )


def test_each_unknown_target_is_named_with_its_change() -> None:
    again = RushOrder(PlanJob(order_id="R", due_at=NOW, released_at=NOW, operations=()))
    with pytest.raises(UnknownTargets) as excinfo:
        check(
            JOBS,
            MACHINES,
            [
                MachineDown("weld-1", 60),
                MachineDown("saw", 60),
                RaisePriority("SO-2", 1),
                again,
                again,
            ],
        )
    assert excinfo.value.problems == [
        (1, "no machine 'saw' in the plant"),
        (2, "no open order 'SO-2'"),
        (4, "order 'R' exists already: name the rush order anew"),
    ]

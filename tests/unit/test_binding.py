"""Job binding rules: which dispatch job a machine takes, which unassigned cycles a job claims,
each machine's binding and offline rule (plant file, work center, default), the operator role."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from tracker.auth.api_keys import ApiKeySpec, KeyRing, Role, hash_key
from tracker.domain.binding import (
    Backlog,
    Binding,
    DispatchCandidate,
    MachineRules,
    OfflineRule,
    claimable,
    first_ready,
)
from tracker.entrypoints.request_models import MachineJobAction
from tracker.plant import PlantFileError, load_plant

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_dispatch_machine_takes_the_first_ready_job_with_parts_left() -> None:
    queue = [
        DispatchCandidate("SO-1", 20, ready=False, left=5),  # its cut is not done yet
        DispatchCandidate("SO-2", 10, ready=True, left=0),  # nothing left to make
        DispatchCandidate("SO-3", 10, ready=True, left=4),
        DispatchCandidate("SO-4", 10, ready=True, left=9),
    ]
    assert first_ready(queue) == queue[2]
    assert first_ready(queue[:2]) is None
    assert first_ready([]) is None


def test_a_job_claims_the_unassigned_cycles_of_the_window_before_it_oldest_first() -> None:
    backlog = [
        Backlog(4, _at(290), 1, 0),
        Backlog(1, _at(-11), 1, 0),  # before the window
        Backlog(2, _at(0), 2, 1),  # the window's first second
        Backlog(3, _at(301), 1, 0),  # after the binding
        Backlog(5, _at(100), 0, 0),  # counted nothing
    ]
    claimed = claimable(backlog, bound_at=_at(300), window_s=300)
    assert [b.row_id for b in claimed] == [2, 4]
    assert claimable(backlog, _at(300), 0) == []


def test_a_machine_rule_comes_from_the_plant_else_the_default() -> None:
    rules = MachineRules(
        binding=Binding.EVENT,
        bindings={"weld-1": Binding.DISPATCH},
        offline_rules={"weld-1": OfflineRule.BRIDGE},
    )
    assert rules.binding_of("weld-1") is Binding.DISPATCH
    assert rules.binding_of("saw-1") is Binding.EVENT
    assert rules.offline_of("weld-1") is OfflineRule.BRIDGE
    assert rules.offline_of("saw-1") is OfflineRule.SILENCE


def test_the_silence_check_skips_bridged_machines_or_takes_only_silence_ones() -> None:
    rules = MachineRules(offline_rules={"a": OfflineRule.BRIDGE, "b": OfflineRule.SILENCE})
    assert rules.silence_scope() == (None, frozenset({"a"}))
    bridged = MachineRules(
        offline=OfflineRule.BRIDGE,
        offline_rules={"a": OfflineRule.BRIDGE, "b": OfflineRule.SILENCE},
    )
    assert bridged.silence_scope() == (frozenset({"b"}), frozenset())


def _plant(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_a_machines_own_bind_and_offline_win_over_its_work_centers(tmp_path: Path) -> None:
    plant = load_plant(
        _plant(
            tmp_path,
            """
            machines:
              - saw-1
              - {id: saw-2, bind: operator, offline: silence}
              - weld-1
            work_centers:
              cut: {machines: [saw-1, saw-2], bind: dispatch, offline: bridge}
              weld: [weld-1]
            """,
        )
    )
    assert plant.bindings == {"saw-1": Binding.DISPATCH, "saw-2": Binding.OPERATOR}
    assert plant.offline_rules == {"saw-1": OfflineRule.BRIDGE, "saw-2": OfflineRule.SILENCE}


def test_work_centers_that_disagree_on_a_machine_are_reported_with_the_line(
    tmp_path: Path,
) -> None:
    path = _plant(
        tmp_path,
        """
        machines: [saw-1, {id: saw-2, bind: event}]
        work_centers:
          cut: {machines: [saw-1, saw-2], bind: dispatch}
          rough: {machines: [saw-1, saw-2], bind: operator}
        """,
    )
    with pytest.raises(PlantFileError) as info:
        load_plant(path)
    errors = str(info.value).splitlines()
    assert len(errors) == 1, errors  # saw-2's own bind settles it
    assert ":4: work_centers.rough.bind: machine saw-1 is also in cut" in errors[0]


def test_an_unknown_bind_or_offline_value_is_reported_with_the_line(tmp_path: Path) -> None:
    path = _plant(tmp_path, "machines:\n  - {id: saw-1, bind: plc}\n  - {id: s2, offline: x}\n")
    with pytest.raises(PlantFileError) as info:
        load_plant(path)
    errors = str(info.value).splitlines()
    assert any(":2: machines.0.bind:" in e for e in errors), errors
    assert any(":3: machines.1.offline:" in e for e in errors), errors


def test_an_operator_may_do_what_a_viewer_may_and_a_supervisor_what_an_operator_may() -> None:
    assert Role.OPERATOR.allows(Role.VIEWER) and not Role.OPERATOR.allows(Role.SUPERVISOR)
    assert Role.SUPERVISOR.allows(Role.OPERATOR) and not Role.VIEWER.allows(Role.OPERATOR)


def test_a_key_with_machines_may_work_only_those() -> None:
    key = "operator-key-" + "o" * 20
    ring = KeyRing(
        [ApiKeySpec(name="olga", role=Role.OPERATOR, key_sha256=hash_key(key), machines=["saw-1"])]
    )
    olga = ring.lookup(key)
    assert olga is not None and olga.may_work("saw-1") and not olga.may_work("saw-2")
    anyone = KeyRing([ApiKeySpec(name="x", role=Role.OPERATOR, key_sha256=hash_key(key))])
    assert (found := anyone.lookup(key)) is not None and found.may_work("saw-2")


@pytest.mark.parametrize(
    "body",
    [
        {"action": "start", "order_id": "SO-1"},
        {"action": "start", "operation": 10},
        {"action": "end", "operation": 10},
        {"action": "pause"},
        {"action": "end", "order_id": "SO 1"},
        {"action": "end", "extra": 1},
    ],
)
def test_a_job_action_without_its_job_or_with_strangers_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MachineJobAction.model_validate(body)


def test_an_end_may_name_the_job_or_not() -> None:
    assert MachineJobAction.model_validate({"action": "end"}).order_id is None
    named = MachineJobAction.model_validate({"action": "end", "order_id": "SO-1", "operation": 10})
    assert (named.order_id, named.operation) == ("SO-1", 10)

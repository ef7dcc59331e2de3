"""The PackML state machine (ISA-TR88.00.02) and its operator (device_sim/packml.py)."""

from __future__ import annotations

import random

import pytest

from device_sim.packml import (
    ACTING,
    COMMANDS,
    SIMULATOR_CODES,
    STATE_COMPLETE,
    Command,
    Goal,
    PackmlState,
    PackmlUnit,
    command_towards,
)

S = PackmlState


def _unit(state: PackmlState = S.STOPPED) -> PackmlUnit:
    unit = PackmlUnit(random.Random(1), transition_s=(2.0, 2.0))
    unit.state = state
    return unit


def _drive(unit: PackmlUnit, goal: Goal, steps: int = 40) -> list[PackmlState]:
    """The states the unit passes through while the operator drives it towards `goal`."""
    seen = [unit.state]
    for _ in range(steps):
        unit.step(1.0)
        if unit.state != seen[-1]:
            seen.append(unit.state)
        command = command_towards(unit.state, goal)
        if command is not None:
            assert unit.command(command)
            seen.append(unit.state)
    return seen


def test_state_codes_and_names_are_the_standards() -> None:
    assert [(s.value, s.text) for s in S] == [
        (0, "Undefined"),
        (1, "Clearing"),
        (2, "Stopped"),
        (3, "Starting"),
        (4, "Idle"),
        (5, "Suspended"),
        (6, "Execute"),
        (7, "Stopping"),
        (8, "Aborting"),
        (9, "Aborted"),
        (10, "Holding"),
        (11, "Held"),
        (12, "Unholding"),
        (13, "Suspending"),
        (14, "Unsuspending"),
        (15, "Resetting"),
        (16, "Completing"),
        (17, "Complete"),
    ]


def test_the_reference_simulator_numbers_idle_and_clearing_the_other_way_round() -> None:
    assert SIMULATOR_CODES[S.IDLE] == 1 and SIMULATOR_CODES[S.CLEARING] == 4
    assert all(SIMULATOR_CODES[s] == s.value for s in S if s not in (S.IDLE, S.CLEARING))


def test_a_unit_boots_through_clearing_to_stopped() -> None:
    unit = PackmlUnit(random.Random(1))
    assert unit.state is S.CLEARING
    unit.step(10.0)
    assert unit.state is S.STOPPED


def test_acting_states_last_their_transition_time_then_complete() -> None:
    unit = _unit(S.STOPPED)
    assert unit.command(Command.RESET) and unit.state is S.RESETTING
    unit.step(1.5)
    assert unit.state is S.RESETTING
    unit.step(0.6)
    assert unit.state is S.IDLE
    unit.step(100.0)
    assert unit.state is S.IDLE  # a wait state waits for a command


@pytest.mark.parametrize(
    ("start", "command", "accepted"),
    [
        (S.IDLE, Command.START, True),
        (S.STOPPED, Command.START, False),  # Reset first
        (S.EXECUTE, Command.RESET, False),  # Stop first
        (S.COMPLETE, Command.RESET, True),
        (S.ABORTED, Command.STOP, False),  # Clear first
        (S.ABORTED, Command.CLEAR, True),
        (S.STOPPED, Command.ABORT, True),
        (S.ABORTING, Command.ABORT, False),
        (S.HELD, Command.UNHOLD, True),
        (S.SUSPENDED, Command.HOLD, False),
        (S.EXECUTE, Command.COMPLETE, True),
    ],
)
def test_commands_are_accepted_only_where_the_model_allows(
    start: PackmlState, command: Command, accepted: bool
) -> None:
    unit = _unit(start)
    assert unit.command(command) is accepted
    assert (unit.state is not start) is accepted


def test_every_acting_state_completes_to_a_wait_state() -> None:
    assert all(STATE_COMPLETE[s] not in ACTING for s in ACTING)
    assert {target for _accepted, target in COMMANDS.values()} <= ACTING


def test_work_takes_a_stopped_unit_through_reset_and_start_to_execute() -> None:
    assert _drive(_unit(S.STOPPED), Goal.EXECUTE) == [
        S.STOPPED,
        S.RESETTING,
        S.IDLE,
        S.STARTING,
        S.EXECUTE,
    ]


def test_a_breakdown_aborts_and_its_repair_clears_resets_and_starts_again() -> None:
    unit = _unit(S.EXECUTE)
    assert _drive(unit, Goal.ABORTED) == [S.EXECUTE, S.ABORTING, S.ABORTED]
    assert _drive(unit, Goal.EXECUTE) == [
        S.ABORTED,
        S.CLEARING,
        S.STOPPED,
        S.RESETTING,
        S.IDLE,
        S.STARTING,
        S.EXECUTE,
    ]


def test_a_held_breakdown_unholds_straight_back_to_execute() -> None:
    unit = _unit(S.EXECUTE)
    assert _drive(unit, Goal.HELD) == [S.EXECUTE, S.HOLDING, S.HELD]
    assert _drive(unit, Goal.EXECUTE) == [S.HELD, S.UNHOLDING, S.EXECUTE]


def test_a_breakdown_outside_execute_cannot_hold_and_aborts() -> None:
    assert _drive(_unit(S.IDLE), Goal.HELD)[-1] is S.ABORTED


def test_running_out_of_work_suspends_and_work_unsuspends() -> None:
    unit = _unit(S.EXECUTE)
    assert _drive(unit, Goal.WAITING) == [S.EXECUTE, S.SUSPENDING, S.SUSPENDED]
    assert _drive(unit, Goal.EXECUTE) == [S.SUSPENDED, S.UNSUSPENDING, S.EXECUTE]


def test_a_setup_after_waiting_stops_and_resets_to_idle() -> None:
    assert _drive(_unit(S.SUSPENDED), Goal.IDLE) == [
        S.SUSPENDED,
        S.STOPPING,
        S.STOPPED,
        S.RESETTING,
        S.IDLE,
    ]


def test_a_stopped_unit_without_work_stays_stopped() -> None:
    assert _drive(_unit(S.STOPPED), Goal.WAITING) == [S.STOPPED]


def test_switching_off_stops_the_unit() -> None:
    assert _drive(_unit(S.EXECUTE), Goal.STOPPED) == [S.EXECUTE, S.STOPPING, S.STOPPED]


def test_the_operator_waits_out_acting_states_except_to_abort() -> None:
    assert command_towards(S.RESETTING, Goal.EXECUTE) is None
    assert command_towards(S.STARTING, Goal.ABORTED) is Command.ABORT

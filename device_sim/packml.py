"""The PackML state machine (ISA-TR88.00.02) and the operator who drives it from our machine model.

No I/O. `PackmlUnit` holds a state, takes commands (Reset, Start, Stop, Hold, ...) and completes
its acting states (Resetting, Starting, Aborting, ...) after a transition time, as a PLC does.
`command_towards` is the operator: the one command that moves the unit towards a goal state
(Execute while the machine works, Aborted or Held while it is broken down, ...).
"""

from __future__ import annotations

import random
from enum import Enum, IntEnum


class PackmlState(IntEnum):
    """The states and their codes as ISA-TR88.00.02 (and OMAC PackTags StateCurrent) number them."""

    UNDEFINED = 0
    CLEARING = 1
    STOPPED = 2
    STARTING = 3
    IDLE = 4
    SUSPENDED = 5
    EXECUTE = 6
    STOPPING = 7
    ABORTING = 8
    ABORTED = 9
    HOLDING = 10
    HELD = 11
    UNHOLDING = 12
    SUSPENDING = 13
    UNSUSPENDING = 14
    RESETTING = 15
    COMPLETING = 16
    COMPLETE = 17

    @property
    def text(self) -> str:
        """The name as PackML bridges write it in StateCurrentStr: `Execute`, `Complete`."""
        return self.name.title()


S = PackmlState
# libremfg/PackML-MQTT-Simulator numbers its states by its own list: Idle and Clearing swapped
SIMULATOR_CODES: dict[PackmlState, int] = {**{s: int(s) for s in S}, S.IDLE: 1, S.CLEARING: 4}


class Command(Enum):
    """The PackML state commands (a PLC's Command/... tags)."""

    RESET = "Reset"
    START = "Start"
    STOP = "Stop"
    HOLD = "Hold"
    UNHOLD = "Unhold"
    SUSPEND = "Suspend"
    UNSUSPEND = "Unsuspend"
    ABORT = "Abort"
    CLEAR = "Clear"
    COMPLETE = "Complete"


_STOPPABLE = frozenset(S) - {S.UNDEFINED, S.STOPPING, S.STOPPED, S.ABORTING, S.ABORTED, S.CLEARING}
_ABORTABLE = frozenset(S) - {S.UNDEFINED, S.ABORTING, S.ABORTED}
# command -> (states it is accepted in, the state it leads to)
COMMANDS: dict[Command, tuple[frozenset[PackmlState], PackmlState]] = {
    Command.RESET: (frozenset({S.STOPPED, S.COMPLETE}), S.RESETTING),
    Command.START: (frozenset({S.IDLE}), S.STARTING),
    Command.STOP: (_STOPPABLE, S.STOPPING),
    Command.HOLD: (frozenset({S.EXECUTE}), S.HOLDING),
    Command.UNHOLD: (frozenset({S.HELD}), S.UNHOLDING),
    Command.SUSPEND: (frozenset({S.EXECUTE}), S.SUSPENDING),
    Command.UNSUSPEND: (frozenset({S.SUSPENDED}), S.UNSUSPENDING),
    Command.ABORT: (_ABORTABLE, S.ABORTING),
    Command.CLEAR: (frozenset({S.ABORTED}), S.CLEARING),
    Command.COMPLETE: (frozenset({S.EXECUTE}), S.COMPLETING),
}
# acting states end on their own ("state complete") in the wait state named here
STATE_COMPLETE: dict[PackmlState, PackmlState] = {
    S.CLEARING: S.STOPPED,
    S.STOPPING: S.STOPPED,
    S.ABORTING: S.ABORTED,
    S.RESETTING: S.IDLE,
    S.STARTING: S.EXECUTE,
    S.HOLDING: S.HELD,
    S.UNHOLDING: S.EXECUTE,
    S.SUSPENDING: S.SUSPENDED,
    S.UNSUSPENDING: S.EXECUTE,
    S.COMPLETING: S.COMPLETE,
}
ACTING = frozenset(STATE_COMPLETE)


class PackmlUnit:
    """One PackML unit: its state, and how long its acting state has left (plant seconds).

    An acting state lasts a random 1-10 s, as in the reference simulator; a unit starts in
    Clearing (then Stopped), as a PLC that boots.
    """

    def __init__(self, rng: random.Random, transition_s: tuple[float, float] = (1.0, 10.0)) -> None:
        self.rng = rng
        self.transition_s = transition_s
        self.state = S.CLEARING
        self._left = self._transition()

    def _transition(self) -> float:
        low, high = self.transition_s
        return self.rng.uniform(low, high)

    def command(self, command: Command) -> bool:
        """Apply a command; False (nothing changes) where the state does not accept it."""
        accepted, target = COMMANDS[command]
        if self.state not in accepted:
            return False
        self._enter(target)
        return True

    def reboot(self) -> None:
        """The bridge (or PLC) starts over: Clearing, then Stopped."""
        self._enter(S.CLEARING)

    def _enter(self, state: PackmlState) -> None:
        self.state = state
        self._left = self._transition() if state in ACTING else 0.0

    def step(self, dt_s: float) -> None:
        """Let `dt_s` pass: an acting state whose time is up completes (one state per step)."""
        if self.state in ACTING:
            self._left -= dt_s
            if self._left <= 0:
                self._enter(STATE_COMPLETE[self.state])


class Goal(Enum):
    """Where the machine model wants its unit to be."""

    EXECUTE = "execute"  # making parts
    IDLE = "idle"  # reset and ready: setting up for a job
    WAITING = "waiting"  # out of work: suspended if it was executing, else left where it is
    STOPPED = "stopped"  # switched off
    ABORTED = "aborted"  # broken down
    HELD = "held"  # broken down, held (falls back to Aborted outside Execute)


# the command that moves a wait state towards each goal (acting states are waited out)
_TOWARDS: dict[Goal, dict[PackmlState, Command]] = {
    Goal.EXECUTE: {
        S.STOPPED: Command.RESET,
        S.COMPLETE: Command.RESET,
        S.IDLE: Command.START,
        S.ABORTED: Command.CLEAR,
        S.HELD: Command.UNHOLD,
        S.SUSPENDED: Command.UNSUSPEND,
    },
    Goal.IDLE: {
        S.STOPPED: Command.RESET,
        S.COMPLETE: Command.RESET,
        S.ABORTED: Command.CLEAR,
        S.EXECUTE: Command.STOP,
        S.HELD: Command.STOP,
        S.SUSPENDED: Command.STOP,
    },
    Goal.WAITING: {S.EXECUTE: Command.SUSPEND, S.ABORTED: Command.CLEAR, S.HELD: Command.STOP},
    Goal.STOPPED: {s: Command.STOP for s in _STOPPABLE - ACTING} | {S.ABORTED: Command.CLEAR},
    Goal.ABORTED: {s: Command.ABORT for s in _ABORTABLE},
    Goal.HELD: {s: Command.ABORT for s in _ABORTABLE - {S.HOLDING, S.HELD}}
    | {S.EXECUTE: Command.HOLD},
}


def command_towards(state: PackmlState, goal: Goal) -> Command | None:
    """The operator's next command for a unit in `state` that should reach `goal`, if any."""
    if state in ACTING and goal not in (Goal.ABORTED, Goal.HELD):
        return None
    return _TOWARDS[goal].get(state)

"""Machines: their state periods, PLC counters (resets, wraps, stale events) and bound job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import DomainError
from .errors import aware as _aware

MACHINE_STATES = frozenset({"RUNNING", "IDLE", "SETUP", "DOWN", "OFFLINE"})
OFFLINE = "OFFLINE"

# a counter below its last value is a wrap (not a reset) when the last value was this close to
# the machine's declared wrap value, as a fraction of it
_WRAP_NEAR = 0.1


@dataclass(frozen=True)
class CycleCount:
    """What one cycle event adds: good and scrap parts, and why it counted nothing or less."""

    good: int
    scrap: int = 0
    note: str | None = None  # "reset", "wrap", "repeated", "stale: ..."

    @property
    def stale(self) -> bool:
        return self.note is not None and self.note.startswith("stale")


@dataclass(frozen=True)
class StateInterval:
    """A closed period a machine spent in one state (for utilisation)."""

    machine_id: str
    state: str
    started_at: datetime
    ended_at: datetime

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class StateChange:
    """The result of a state event: the interval it closed, or why it was rejected."""

    closed: StateInterval | None = None
    rejected: str | None = None


def _advance(
    last: int | None, counter: int, wrap: int | None, first: int
) -> tuple[int, str | None]:
    """Parts between two cumulative counter values; `first` when no value was known."""
    if last is None:
        return first, None
    if counter >= last:
        return counter - last, None
    if wrap is not None and counter < wrap and wrap * (1 - _WRAP_NEAR) <= last < wrap:
        return (wrap - last) + counter, "wrap"
    return counter, "reset"


def _first_part(counter: int, scrap_counter: int | None, baseline: bool) -> tuple[int, int]:
    """What a machine's first cycle event counts (good, scrap): the one part it finished."""
    if baseline:
        return 0, 0  # counters as first seen: no part was finished with them
    if counter == 0 and scrap_counter:
        return 0, 1  # a good counter at 0 never counted a part: the one it reports is scrap
    return 1, 0


@dataclass(eq=False)
class Machine:
    """A machine's state and since when, its PLC counters and the job it is bound to."""

    machine_id: str
    state: str = "IDLE"
    last_counter: int | None = None
    last_seen: datetime | None = None  # the device's time of its newest event
    order_id: str | None = None
    seq: int | None = None
    last_scrap_counter: int | None = None
    last_count_at: datetime | None = None  # device time of the newest accepted cycle event
    state_since: datetime | None = None
    last_heard_at: datetime | None = None  # tracker time the machine was last heard from
    stale_events: int = 0  # out-of-order events counted 0 or rejected

    def bind(self, order_id: str, seq: int) -> None:
        self.order_id, self.seq = order_id, seq

    def release(self, order_id: str, seq: int) -> None:
        if (self.order_id, self.seq) == (order_id, seq):
            self.order_id, self.seq = None, None

    def heard(self, at: datetime, now: datetime, back_as: str = "IDLE") -> StateChange:
        """Any event from the machine; a newer one from an OFFLINE machine brings it back."""
        _aware(at)
        _aware(now)
        self.last_heard_at = now
        if self.last_seen is None or at > self.last_seen:
            self.last_seen = at
        if self.state == OFFLINE and (self.state_since is None or at >= self.state_since):
            return self.set_state(back_as, at)
        return StateChange()

    def count_cycle(
        self,
        counter: int,
        at: datetime,
        scrap_counter: int | None = None,
        wrap: int | None = None,
        baseline: bool = False,
    ) -> CycleCount:
        """Good and scrap parts made since the last counted cycle, from cumulative counters.

        The first cycle event a machine ever reports counts as one part (a cycle event is sent
        when a part is finished; the previous values are unknown): a scrap part when its good
        counter is 0 and its scrap counter is not (no good part was ever counted), else a
        good one. An event older than the last counted one is stale and counts nothing: a later
        cumulative value already includes its parts. A counter below the last value is a wrap
        when the last value was near the declared `wrap` (counted across it), else a reset to
        0 (its value counted), but only from an event strictly newer than the last counted.
        A `baseline` event (counters as a bridge mapping first saw them) counts no first part.
        """
        _aware(at)
        if self.last_count_at is not None and at < self.last_count_at:
            self.stale_events += 1
            return CycleCount(
                0, 0, f"stale: older than the last counted cycle ({self.last_count_at})"
            )
        lower = counter < (self.last_counter if self.last_counter is not None else counter)
        lower_scrap = scrap_counter is not None and scrap_counter < (
            self.last_scrap_counter if self.last_scrap_counter is not None else scrap_counter
        )
        if (lower or lower_scrap) and (self.last_count_at is None or at == self.last_count_at):
            self.stale_events += 1
            return CycleCount(0, 0, "stale: counter went back without a newer timestamp")
        first_good, first_scrap = _first_part(counter, scrap_counter, baseline)
        if self.last_counter is not None:
            first_scrap = 0  # a scrap counter first heard beside a known good counter
        good, note = _advance(self.last_counter, counter, wrap, first=first_good)
        scrap, scrap_note = 0, None
        if scrap_counter is not None:
            scrap, scrap_note = _advance(
                self.last_scrap_counter, scrap_counter, wrap, first=first_scrap
            )
            self.last_scrap_counter = scrap_counter
        # newest accepted counters: anything older is already inside these cumulative values
        self.last_counter, self.last_count_at = counter, at
        if good == 0 and scrap == 0:
            return CycleCount(0, 0, note or scrap_note or "repeated")
        return CycleCount(good, scrap, note or scrap_note)

    def set_state(self, state: str, at: datetime) -> StateChange:
        """Enter `state` at `at`, closing the current state's interval.

        A state event older than the current state's start cannot rewrite the present: it is
        rejected with the reason (and counted in `stale_events`).
        """
        _aware(at)
        if state not in MACHINE_STATES:
            raise DomainError(f"unknown machine state {state!r}")
        since = self.state_since
        if since is not None and at < since:
            self.stale_events += 1
            return StateChange(
                rejected=f"state {state} at {at} is older than the current state "
                f"{self.state} since {since}"
            )
        if since is not None and state == self.state:
            return StateChange()
        closed = None
        if since is not None and at > since:
            closed = StateInterval(self.machine_id, self.state, since, at)
        self.state, self.state_since = state, at
        return StateChange(closed=closed)

    def is_silent(self, now: datetime, after_s: float) -> bool:
        """True when nothing was heard from the machine for `after_s` seconds."""
        _aware(now)
        heard = self.last_heard_at or self.last_seen
        return heard is not None and (now - heard).total_seconds() >= after_s

    def mark_offline_if_silent(self, now: datetime, after_s: float) -> StateChange | None:
        """OFFLINE since its last event when silent long enough; None when nothing changed."""
        if self.state == OFFLINE or not self.is_silent(now, after_s):
            return None
        # offline from the last thing heard (device time), never before the current state began
        known = [t for t in (self.last_seen, self.state_since) if t is not None]
        return self.set_state(OFFLINE, min(now, max(known)) if known else now)

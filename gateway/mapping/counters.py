"""Part counters as bridges send them, to whole-part counter values for cycle events (no I/O).

A cumulative counter may be fractional (a part counts when the whole part advances), restart
at 0 (a reset: its new value counts), wrap at a declared value, repeat, or arrive out of order
(older than the last: nothing). The values reported are the counter's whole parts, so the
tracker's own cumulative-counter rules count each part once however often an event comes.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

# a drop of the counter is a reset when it falls below this share of the last value (or below 1)
RESET_BELOW = 0.5
# the last value was this close to the declared wrap value (as a share of it): a drop is a wrap
WRAP_NEAR = 0.1
# increments remembered to tell a reading delivered again from a new one
_SEEN_LIMIT = 4096


@dataclass(frozen=True)
class CounterStep:
    """What one counter value adds: counter values to report, the parts they add, and why."""

    counters: tuple[int, ...] = ()
    parts: int = 0
    note: str | None = None  # baseline, repeat, stale, reset, wrap
    error: str | None = None  # the value is refused: why (dead-lettered)
    # the first value seen: reported as a baseline (the tracker counts what it adds to the
    # counter it knew, and nothing for a machine it never heard count)
    baseline: bool = False


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _check(value: object) -> tuple[float | None, str | None]:
    number = _number(value)
    if number is None:
        return None, f"{str(value)[:40]!r} is not a number"
    if number < 0:
        return None, f"{number!r} is negative"
    if number >= 2**63:
        return None, f"{number!r} is beyond 63 bits"
    return number, None


class CumulativeCounter:
    """A counter that only grows between resets (PackML `AccCount`, a PLC's part counter)."""

    def __init__(self, wrap: float | None = None) -> None:
        self.wrap = wrap
        self.last: float | None = None
        self.last_ts: int | None = None
        self.reported: int | None = None  # whole part value last reported (or the baseline's)
        self._dropped: float | None = None  # a drop refused once: a reset if the next agrees

    def update(self, value: object, ts_ns: int) -> CounterStep:
        """Take one value of the counter at its time (ns since the epoch)."""
        number, error = _check(value)
        if number is None:
            return CounterStep(error=error)
        if self.last is None or self.last_ts is None or self.reported is None:
            self.last, self.last_ts, self.reported = number, ts_ns, math.floor(number)
            return CounterStep((self.reported,), note="baseline", baseline=True)
        if ts_ns < self.last_ts:
            return CounterStep(note="stale")
        if number == self.last:
            self.last_ts = ts_ns
            return CounterStep(note="repeat")
        if number > self.last:
            return self._advance(number, ts_ns)
        wrap = self.wrap
        if wrap is not None and number < wrap and self.last >= wrap * (1 - WRAP_NEAR):
            parts = math.floor(wrap + number) - self.reported
            return self._restart(number, ts_ns, max(parts, 0), "wrap")
        if number < self.last * RESET_BELOW or number < 1:
            return self._restart(number, ts_ns, math.floor(number), "reset")
        dropped, self._dropped = self._dropped, None
        if dropped is not None and dropped <= number:
            # it keeps counting up from where it fell: it did restart (as the tracker reads a
            # lower counter); the parts since that restart count
            return self._restart(number, ts_ns, math.floor(number), "reset")
        self._dropped = number
        return CounterStep(error=f"went back from {self.last!r} to {number!r} without a reset")

    def _advance(self, number: float, ts_ns: int) -> CounterStep:
        assert self.reported is not None
        self._dropped = None
        whole, before = math.floor(number), self.reported
        self.last, self.last_ts = number, ts_ns
        if whole <= before:
            return CounterStep(note="repeat")  # a fraction more: no whole part yet
        self.reported = whole
        return CounterStep((whole,), whole - before)

    def _restart(self, number: float, ts_ns: int, parts: int, note: str) -> CounterStep:
        whole = math.floor(number)
        self.last, self.last_ts, self.reported = number, ts_ns, whole
        # the tracker sees the lower value and counts it as a reset (or a declared wrap)
        return CounterStep((whole,), parts, note)


class IncrementCounter:
    """Parts per message: each value is what was made since the last one (`increment`), or
    each message with a true or non-zero value is one part (`per_message`).

    The count is our own, from 0 when the gateway starts: its first report is a baseline of 0,
    which the tracker reads as a reset, so it then counts exactly the parts since.
    """

    def __init__(self, per_message: bool = False) -> None:
        self.per_message = per_message
        self.total = 0.0
        self.reported: int | None = None
        # the readings taken, by time and value: one delivered again adds nothing (a sum does
        # not care about order, so an older one still adds)
        self._seen: OrderedDict[tuple[int, float], None] = OrderedDict()

    def update(self, value: object, ts_ns: int) -> CounterStep:
        """Take one message's value; it adds to the count."""
        number, error = _check(value)
        if number is None:
            return CounterStep(error=error)
        if self.per_message:
            number = 1.0 if number else 0.0
        key = (ts_ns, number)
        if key in self._seen:
            return CounterStep(note="repeat")
        self._seen[key] = None
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)
        self.total += number
        whole = math.floor(self.total)
        if self.reported is None:
            self.reported = whole
            counters = (0, whole) if whole else (0,)
            return CounterStep(counters, whole, "baseline", baseline=True)
        before = self.reported
        if whole <= before:
            return CounterStep(note="repeat")
        self.reported = whole
        return CounterStep((whole,), whole - before)


Counter = CumulativeCounter | IncrementCounter

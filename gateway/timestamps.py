"""Device timestamps to epoch nanoseconds, checked against the arrival time."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from shopfloor.contract.payloads import PayloadError

Precision = Literal["s", "ms", "us", "ns", "auto"]
_FACTOR = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# line protocol timestamps are signed 64-bit nanoseconds; before 1970 is never a shop-floor time
MAX_NS = 2**63 - 1
_NS_PER_S = 10**9


def epoch_ns(ts: datetime) -> int:
    """Nanoseconds since the epoch for an aware datetime, exact to the microsecond."""
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def guess_factor(value: int | float) -> int:
    """Nanoseconds per unit for an epoch number, judged by its size (precision `auto`)."""
    size = abs(value)
    if size < 1e11:  # seconds until the year 5138
        return _FACTOR["s"]
    if size < 1e14:
        return _FACTOR["ms"]
    if size < 1e17:
        return _FACTOR["us"]
    return _FACTOR["ns"]


def rfc3339_ns(text: str) -> int:
    """Epoch nanoseconds of an RFC 3339 time with an offset; fractions kept to the nanosecond."""
    if len(text) < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt ":
        raise PayloadError("bad_timestamp", f"ts {text[:40]!r} is not RFC 3339")
    try:
        parsed = datetime.fromisoformat(text[:-1] + "Z" if text[-1] == "z" else text)
    except ValueError:
        raise PayloadError("bad_timestamp", f"ts {text[:40]!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise PayloadError("bad_timestamp", f"ts {text[:40]!r} has no UTC offset")
    try:
        ns = epoch_ns(parsed)
    except OverflowError:
        raise PayloadError("ts_out_of_range", f"ts {text[:40]!r} is outside 1970-2262") from None
    if len(text) > 26 and text[19] == ".":  # datetime stops at microseconds: add the rest
        digits = text[20:29]
        end = next((i for i, c in enumerate(digits) if not c.isdigit()), len(digits))
        if end > 6:
            ns += int(digits[6:end].ljust(3, "0"))
    return ns


class Clock:
    """Reads `ts` values in the declared precision and enforces the accepted time window."""

    def __init__(
        self, precision: Precision = "ms", max_ahead_s: float = 0, max_behind_s: float = 0
    ) -> None:
        self._factor = _FACTOR.get(precision, 0)  # 0: guess from the size
        self._ahead = int(max_ahead_s * _NS_PER_S) if max_ahead_s else None
        self._behind = int(max_behind_s * _NS_PER_S) if max_behind_s else None

    def to_ns(self, value: Any) -> int:
        """Epoch nanoseconds of a `ts` value: RFC 3339 text or an epoch number."""
        kind = type(value)
        if kind is int or kind is float:
            factor = self._factor or guess_factor(value)
            if kind is int:
                ns: int = value * factor
                return ns
            if not math.isfinite(value * factor):
                raise PayloadError("ts_out_of_range", f"ts {value} is outside 1970-2262")
            whole = int(value)  # scale the parts apart: the fraction keeps its precision
            fraction: float = value - whole
            return whole * factor + round(fraction * factor)
        if kind is str:
            return rfc3339_ns(value)
        raise PayloadError(
            "bad_timestamp", f"ts must be RFC 3339 text or an epoch number, not {kind.__name__}"
        )

    def check(self, ns: int, now_ns: int) -> int:
        """`ns` when it lies within the accepted window around `now_ns` (the arrival time)."""
        if not 0 <= ns <= MAX_NS:
            raise PayloadError("ts_out_of_range", "ts is outside 1970-2262")
        if self._ahead is not None and ns > now_ns + self._ahead:
            ahead = (ns - now_ns) / _NS_PER_S
            raise PayloadError("ts_out_of_range", f"ts is {ahead:.0f} s ahead of arrival")
        if self._behind is not None and ns < now_ns - self._behind:
            behind = (now_ns - ns) / _NS_PER_S
            raise PayloadError("ts_out_of_range", f"ts is {behind:.0f} s behind arrival")
        return ns

    def read(self, value: Any, now_ns: int) -> int:
        """Checked epoch nanoseconds of a `ts` value; a missing one (None) is the arrival time."""
        if value is None:
            return now_ns
        ns = value * self._factor if type(value) is int and self._factor else self.to_ns(value)
        if 0 <= ns <= MAX_NS and (self._ahead is None or ns <= now_ns + self._ahead):
            if self._behind is None or ns >= now_ns - self._behind:
                return ns  # the common case, without another call
        return self.check(ns, now_ns)

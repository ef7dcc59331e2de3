"""Problems with mapped values are counted every time and told once per cause."""

from __future__ import annotations

from shopfloor.contract.payloads import PayloadError

_LIMIT = 10_000
# problems with one value of a message: told once per machine, tag and reason (an unmapped
# state once per value); any other reason refuses a whole message and is told every time
_PER_CAUSE = frozenset(
    {
        "mapped_counter",
        "mapped_operation",
        "mapped_event",
        "type",
        "not_finite",
        "sparkplug_unknown_metric",
        "sparkplug_type",
        "sparkplug_array",
        "ts_out_of_range",
    }
)


class ProblemGate:
    """Remembers which causes were told (dead-lettered and logged) already."""

    def __init__(self) -> None:
        self._told: set[tuple[str, str, str]] = set()

    def first(self, machine: str, problem: PayloadError) -> bool:
        """True when this problem's cause is new: tell it; False: only count it."""
        if problem.reason == "mapped_state":
            cause = problem.detail
        elif problem.reason in _PER_CAUSE:
            cause = problem.detail.split(":", 1)[0]
        else:
            return True
        key = (machine, problem.reason, cause)
        if key in self._told:
            return False
        if len(self._told) >= _LIMIT:
            self._told.clear()
        self._told.add(key)
        return True

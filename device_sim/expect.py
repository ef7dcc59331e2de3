"""A scenario's expected outcome, checked through the tracker's HTTP API as a supervisor would.

Black-box on purpose: the same check runs against the demo and against a production tracker
(`GET /api/v1/orders/{id}`, `GET /api/v1/alerts?order_id=`), so a plant can rehearse a scenario
on its own configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .scenario import ExpectSpec

Get = Callable[[str], Any]  # GET a path of the API, the JSON answer (None for a 404)
DONE = ("completed", "shipped")


@dataclass(frozen=True)
class Outcome:
    """Which expectations hold and which do not."""

    failures: tuple[str, ...]
    passed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def check(expect: ExpectSpec, get: Get, ids: Mapping[str, str] | None = None) -> Outcome:
    """Check every expectation now; `ids` maps scenario order ids to the ids in the tracker."""
    ids = ids or {}
    failures: list[str] = []
    passed: list[str] = []

    def verdict(ok: bool, what: str) -> None:
        (passed if ok else failures).append(what)

    for order in expect.alerts:
        alerts = get(f"/api/v1/alerts?order_id={ids.get(order, order)}") or []
        kinds = sorted({a["severity"] for a in alerts})
        verdict(bool(alerts), f"{order} raised a late-order alert ({', '.join(kinds) or 'none'})")
    for order in expect.late:
        alerts = get(f"/api/v1/alerts?order_id={ids.get(order, order)}") or []
        late = any(a["severity"] == "critical" for a in alerts)
        verdict(late, f"{order} is late (a critical alert)")
    for order in expect.no_alerts:
        alerts = get(f"/api/v1/alerts?order_id={ids.get(order, order)}") or []
        verdict(not alerts, f"{order} raised no alert ({len(alerts)} raised)")
    for order in expect.completed:
        detail = get(f"/api/v1/orders/{ids.get(order, order)}")
        status = detail["status"] if detail else "missing"
        verdict(status in DONE, f"{order} completed (status {status})")
    for order in expect.progressed:
        detail = get(f"/api/v1/orders/{ids.get(order, order)}")
        percent = detail["percent_complete"] if detail else 0.0
        verdict(percent > 0, f"{order} progressed ({percent:.0f}% complete)")
    return Outcome(tuple(failures), tuple(passed))

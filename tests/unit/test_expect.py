"""A scenario's expected outcome, judged from the API's answers (given here as plain data)."""

from __future__ import annotations

from typing import Any

from device_sim.expect import check
from device_sim.scenario import ExpectSpec


def _api(orders: dict[str, dict[str, Any]], alerts: dict[str, list[dict[str, Any]]]) -> Any:
    def get(path: str) -> Any:
        if path.startswith("/api/v1/alerts?order_id="):
            return alerts.get(path.rsplit("=", 1)[1], [])
        return orders.get(path.rsplit("/", 1)[1])

    return get


def test_every_kind_of_expectation_passes_when_the_api_shows_it() -> None:
    expect = ExpectSpec(
        within=600,
        alerts=["A"],
        late=["A"],
        no_alerts=["B"],
        completed=["B"],
        progressed=["C"],
    )
    get = _api(
        {
            "B": {"status": "completed", "percent_complete": 100.0},
            "C-r2": {"percent_complete": 5.0, "status": "in_progress"},
        },
        {"A": [{"severity": "critical"}]},
    )

    outcome = check(expect, get, {"C": "C-r2"})

    assert outcome.ok, outcome.failures
    assert len(outcome.passed) == 5


def test_each_unmet_expectation_is_named_with_what_the_api_showed() -> None:
    expect = ExpectSpec(
        within=600, alerts=["A"], late=["B"], no_alerts=["B"], completed=["C"], progressed=["D"]
    )
    get = _api(
        {
            "C": {"status": "in_progress", "percent_complete": 40.0},
            "D": {"percent_complete": 0.0, "status": "released"},
        },
        {"B": [{"severity": "warning"}]},
    )

    outcome = check(expect, get)

    assert not outcome.ok
    assert outcome.failures == (
        "A raised a late-order alert (none)",
        "B is late (a critical alert)",
        "B raised no alert (1 raised)",
        "C completed (status in_progress)",
        "D progressed (0% complete)",
    )


def test_a_missing_order_fails_its_expectations() -> None:
    outcome = check(ExpectSpec(within=60, completed=["X"]), _api({}, {}))

    assert outcome.failures == ("X completed (status missing)",)

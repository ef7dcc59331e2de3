"""The foresight bench end to end on two tiny job shops (SQLite databases of the plant twin)."""

from __future__ import annotations

import json

import pytest

from launcher.bench.foresight import main, run_scenario
from launcher.twin.job_shop import job_shop


def test_job_shops_are_seeded_and_within_bounds() -> None:
    shop = job_shop(3)
    assert shop == job_shop(3)
    assert 6 <= len(shop.machines) <= 20
    assert all(2 <= len(order.routing) <= 6 for order in shop.orders)
    assert shop.faults


def test_two_tiny_job_shops_give_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--scenarios", "2", "--machines", "3", "--orders-per-machine", "1.5", "--workers", "1"]
    assert main([*args, "--at-risk-rule", "p_on_time"]) == 0  # the tracker's status from P
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert (result["bench"], result["at_risk_rule"]) == ("foresight", "p_on_time")
    assert "  tracker (p_on_time) " in out
    assert result["orders"] == sum(len(job_shop(seed, 3, 1.5).orders) for seed in (1, 2))
    for key in ("recall", "precision", "flip_flop_share", "calibration_max_gap"):
        assert 0.0 <= result[key] <= 1.0
    assert "static plan (baseline)" in out


def test_the_twin_plays_a_seed_the_same_way_twice() -> None:
    runs = [run_scenario(5, 3, 1.5) for _ in range(2)]
    finished = [{o: t.completed_at for o, t in run.orders.items()} for run in runs]
    assert finished[0] == finished[1]
    assert all(when is not None for when in finished[0].values())
    assert runs[0].events == runs[1].events > 0


def test_with_the_p_on_time_rule_the_twins_tracker_judges_by_its_forecast() -> None:
    run = run_scenario(1, 3, 1.5, at_risk_rule="p_on_time")
    reasons = [r for t in run.orders.values() for look in t.looks for r in look.reasons]
    assert any(r.startswith("P(on time) ") for r in reasons)  # the rules never say it

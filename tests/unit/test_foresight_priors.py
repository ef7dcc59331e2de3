"""Each machine's prior for P(on time): the plant file's figures over the settings', then its
own history blended in, in the live forecast and in what-if."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.clock import T0
from tests.fake_store import FakeStore
from tests.fake_unit_of_work import FakePlanningReads
from tracker.domain.foresight.estimator import MachineRisk
from tracker.domain.foresight.learning import MachineHistory
from tracker.domain.foresight.priors import Priors, Reliability
from tracker.service_layer.foresight import Foresight, ForesightPolicy

HOUR = 3600.0
SETTINGS = MachineRisk(mtbf_s=8 * HOUR, mttr_s=1800.0, duration_cv=0.05)
PRIORS = Priors.of_plant(
    SETTINGS,
    {
        "press-1": Reliability(mtbf_s=20 * HOUR, mttr_s=2 * HOUR, duration_cv=0.08),
        "laser-1": Reliability(mtbf_s=200 * HOUR),
    },
)


def _foresight() -> Foresight:
    return Foresight(FakePlanningReads(FakeStore()), ForesightPolicy(50, PRIORS))


def test_a_machine_takes_the_figures_it_is_given_and_the_settings_for_the_rest() -> None:
    policy = ForesightPolicy(50, PRIORS)
    assert policy.prior("press-1") == MachineRisk(
        mtbf_s=20 * HOUR, mttr_s=2 * HOUR, duration_cv=0.08
    )
    assert policy.prior("laser-1") == MachineRisk(
        mtbf_s=200 * HOUR, mttr_s=1800.0, duration_cv=0.05
    )
    assert policy.prior("saw-1") == SETTINGS  # no figures: the settings'


def test_the_live_risk_starts_from_the_machines_own_prior() -> None:
    foresight = _foresight()
    assert foresight.risks_of("press-1", "IDLE", T0).mtbf_s == 20 * HOUR
    assert foresight.risks_of("saw-1", "IDLE", T0).mtbf_s == 8 * HOUR
    # stopped now: a repair of its own mean repair time still to come
    assert foresight.risks_of("press-1", "DOWN", T0).down_left_s == 2 * HOUR
    assert foresight.risks_of("saw-1", "DOWN", T0).down_left_s == 1800.0


def test_history_is_blended_into_each_machines_own_prior() -> None:
    foresight = _foresight()
    # the same 10 h running and one 1 h failure on both machines
    for machine in ("press-1", "saw-1"):
        history = MachineHistory()
        history.record("RUNNING", T0)
        history.record("DOWN", T0 + timedelta(hours=10))
        history.record("RUNNING", T0 + timedelta(hours=11))
        foresight.learned[machine] = history
    now = T0 + timedelta(hours=11)
    press, saw = (
        foresight.risks_of("press-1", "RUNNING", now),
        foresight.risks_of("saw-1", "RUNNING", now),
    )
    assert press.mtbf_s == pytest.approx((20 * HOUR * 2 + 10 * HOUR) / 3)
    assert press.mttr_s == pytest.approx((2 * HOUR * 2 + HOUR) / 3)
    assert press.duration_cv == 0.08
    assert saw.mtbf_s == pytest.approx((8 * HOUR * 2 + 10 * HOUR) / 3)
    assert saw.mttr_s == pytest.approx((1800.0 * 2 + HOUR) / 3)

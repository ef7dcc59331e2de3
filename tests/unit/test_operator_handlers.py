"""Scrap reported at a machine, and the operator actions' log of starts, ends, scrap and
classifications (handlers on the fake unit of work)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.domain import commands
from tracker.domain.binding import MachineRules
from tracker.domain.downtime import Category, DowntimeRules, Reason, ReasonCatalogue
from tracker.domain.errors import DomainError
from tracker.domain.oee import Oee
from tracker.service_layer import machine_handlers
from tracker.service_layer.downtime_handlers import UnknownReason
from tracker.service_layer.handlers import COMMAND_HANDLERS
from tracker.service_layer.job_binding import JobConflict, MachineNotFound, UnknownJob
from tracker.service_layer.operator_handlers import report_scrap

MIN = timedelta(minutes=1)
CATALOGUE = ReasonCatalogue(
    reasons={
        "burr": Reason("burr", "Burr on the edge", Category.QUALITY),
        "spindle": Reason("spindle", "Spindle fault", Category.MECHANICAL),
    }
)
RULES = MachineRules(downtime=DowntimeRules(CATALOGUE, min_s=60))


@pytest.fixture
def uow() -> FakeUnitOfWork:
    work = with_orders(order("SO-1", quantity=5), order("SO-2", quantity=5), rules=RULES)
    cmd = commands.SetMachineState("saw-1", "s1", "IDLE", T0)
    machine_handlers.set_machine_state(cmd, work, T0)
    return work


def _run(cmd: commands.Command, uow: FakeUnitOfWork, minutes: int) -> None:
    COMMAND_HANDLERS[type(cmd)](cmd, uow, T0 + minutes * MIN)


def _scrap(uow: FakeUnitOfWork, seq: int = 10, order_id: str = "SO-1") -> int:
    return uow.db.orders[order_id].operation(seq).scrap_qty


def test_scrap_counts_to_the_machines_job_and_lowers_quality(uow: FakeUnitOfWork) -> None:
    _run(commands.BindJob("saw-1", "SO-1", 10, "terminal saw-1", "operator"), uow, 1)
    uow.db.orders["SO-1"].record_good(10, 3, T0 + 2 * MIN)
    _run(commands.ReportScrap("saw-1", 1, "burr", "terminal saw-1", "operator"), uow, 3)
    op = uow.db.orders["SO-1"].operation(10)
    assert (op.good_qty, op.scrap_qty) == (3, 1)  # the machine's good count is kept
    quality = Oee(ideal_s=4 * 30, effective_s=3 * 30).quality  # as OEE weighs them
    assert quality == pytest.approx(0.75)
    (_start, scrap) = uow.db.operator_actions
    assert scrap == {
        "id": 2,
        "machine_id": "saw-1",
        "action": "scrap",
        "actor": "terminal saw-1",
        "role": "operator",
        "at": T0 + 3 * MIN,
        "order_id": "SO-1",
        "seq": 10,
        "quantity": 1,
        "reason": "burr",
        "comment": None,
    }


def test_scrap_after_the_job_ended_counts_to_the_last_job(uow: FakeUnitOfWork) -> None:
    _run(commands.BindJob("saw-1", "SO-1", 10, "anna"), uow, 1)
    _run(commands.BindJob("saw-1", "SO-2", 10, "anna"), uow, 2)
    _run(commands.ReleaseJob("saw-1", "anna"), uow, 3)
    _run(commands.ReportScrap("saw-1", 2, "burr", "anna"), uow, 4)
    assert (_scrap(uow, order_id="SO-1"), _scrap(uow, order_id="SO-2")) == (0, 2)


def test_scrap_of_a_named_job(uow: FakeUnitOfWork) -> None:
    _run(commands.ReportScrap("saw-1", 4, "burr", "anna", order_id="SO-2", seq=10), uow, 1)
    assert _scrap(uow, order_id="SO-2") == 4


def test_scrap_is_refused_with_a_reason_that_says_why(uow: FakeUnitOfWork) -> None:
    with pytest.raises(JobConflict, match="has worked no job"):
        report_scrap(commands.ReportScrap("saw-1", 1, "burr", "anna"), uow, T0)
    with pytest.raises(UnknownReason, match="unknown reason 'bogus' \\(reasons: burr, spindle"):
        report_scrap(commands.ReportScrap("saw-1", 1, "bogus", "anna"), uow, T0)
    with pytest.raises(MachineNotFound):
        report_scrap(commands.ReportScrap("lathe-9", 1, "burr", "anna"), uow, T0)
    with pytest.raises(UnknownJob, match="unknown order SO-9"):
        cmd = commands.ReportScrap("saw-1", 1, "burr", "anna", order_id="SO-9", seq=10)
        report_scrap(cmd, uow, T0)
    with pytest.raises(UnknownJob, match="has no operation 20"):
        cmd = commands.ReportScrap("saw-1", 1, "burr", "anna", order_id="SO-1", seq=20)
        report_scrap(cmd, uow, T0)
    with pytest.raises(UnknownJob, match="name the operation"):
        report_scrap(commands.ReportScrap("saw-1", 1, "burr", "anna", order_id="SO-1"), uow, T0)
    with pytest.raises(DomainError, match="at least 1 part"):
        report_scrap(commands.ReportScrap("saw-1", 0, "burr", "anna", order_id="SO-1"), uow, T0)
    uow.db.orders["SO-1"].cancel("customer withdrew", T0)
    with pytest.raises(JobConflict, match="is cancelled"):
        cmd = commands.ReportScrap("saw-1", 1, "burr", "anna", order_id="SO-1", seq=10)
        report_scrap(cmd, uow, T0)
    assert uow.db.operator_actions == []


def test_every_start_end_and_classification_is_logged_with_who_and_when(
    uow: FakeUnitOfWork,
) -> None:
    _run(commands.BindJob("saw-1", "SO-1", 10, "anna", "operator"), uow, 1)  # IDLE with a job
    (stop_id,) = uow.db.downtime
    _run(commands.ClassifyStop(stop_id, "spindle", "anna", "noisy", "operator"), uow, 3)
    _run(commands.ReleaseJob("saw-1", "bob", role="supervisor"), uow, 4)
    _run(commands.ReleaseJob("saw-1", "bob", role="supervisor"), uow, 5)  # no job: nothing
    logged = [
        (a["action"], a["actor"], a["role"], a["at"], a.get("order_id"), a.get("stop_id"))
        for a in uow.db.operator_actions
    ]
    assert logged == [
        ("start", "anna", "operator", T0 + MIN, "SO-1", None),
        ("classify", "anna", "operator", T0 + 3 * MIN, None, stop_id),
        ("end", "bob", "supervisor", T0 + 4 * MIN, "SO-1", None),
    ]
    assert uow.db.operator_actions[1]["reason"] == "spindle"

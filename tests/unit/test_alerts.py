"""The alert lifecycle: raise, refresh, escalate, acknowledge, clear (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain.alerts import Alert, AlertError, AlertState, Severity
from tracker.domain.schedule import ScheduleStatus

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=1)


def _raised(status: ScheduleStatus = ScheduleStatus.AT_RISK) -> Alert:
    return Alert.raise_for("SO-1", status, ("machine saw-1 is DOWN",), T0, DUE, T0)


def test_raised_alert_is_active_version_1_with_one_notice() -> None:
    alert = _raised()
    assert (alert.state, alert.severity, alert.version) == (AlertState.ACTIVE, Severity.WARNING, 1)
    assert alert.notices == ["raised"]
    assert alert.message == "order SO-1 is at risk: machine saw-1 is DOWN"


def test_late_order_raises_a_critical_alert() -> None:
    assert _raised(ScheduleStatus.LATE).severity is Severity.CRITICAL


def test_refresh_updates_eta_and_reasons_without_a_notice() -> None:
    alert = _raised()
    alert.notices.clear()
    alert.refresh(ScheduleStatus.AT_RISK, ("slow",), T0 + timedelta(minutes=5), DUE, T0)
    assert (alert.version, alert.notices, alert.reasons) == (1, [], ["slow"])
    assert alert.eta == T0 + timedelta(minutes=5)


def test_turning_late_escalates_once_and_needs_a_new_acknowledgement() -> None:
    alert = _raised()
    alert.acknowledge("ann", "on it", T0)
    alert.notices.clear()
    alert.refresh(ScheduleStatus.LATE, ("late",), DUE, DUE, T0)
    alert.refresh(ScheduleStatus.AT_RISK, ("risky",), DUE, DUE, T0)  # flapping back
    alert.refresh(ScheduleStatus.LATE, ("late",), DUE, DUE, T0)
    assert alert.notices == ["escalated"]
    assert (alert.severity, alert.state, alert.version) == (Severity.CRITICAL, AlertState.ACTIVE, 3)
    assert alert.acked_by == "ann"  # the last acknowledgement is kept for the record


def test_acknowledge_records_who_when_and_comment_once() -> None:
    alert = _raised()
    alert.acknowledge("ann", "maintenance called", T0 + timedelta(minutes=2))
    alert.acknowledge("bob", None, T0 + timedelta(minutes=3))
    assert (alert.acked_by, alert.acked_at, alert.ack_comment) == (
        "ann",
        T0 + timedelta(minutes=2),
        "maintenance called",
    )
    assert alert.notices == ["raised", "acknowledged"] and alert.version == 2


def test_clear_is_final_and_refuses_acknowledgement() -> None:
    alert = _raised()
    alert.clear("back on track", T0)
    alert.clear("again", T0)
    assert alert.state is AlertState.CLEARED and alert.cleared_at == T0
    assert alert.notices == ["raised", "cleared"]
    with pytest.raises(AlertError):
        alert.acknowledge("ann", None, T0)


def test_an_on_track_order_raises_nothing() -> None:
    with pytest.raises(AlertError):
        Alert.raise_for("SO-1", ScheduleStatus.ON_TRACK, (), T0, DUE, T0)

"""Downtime records and the operator actions' log of the fake unit of work, on its copy of
the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.fake_store import Tables
from tracker.service_layer.unit_of_work import StopRow


def _row(values: dict[str, Any]) -> StopRow:
    return StopRow(
        values["id"],
        values["machine_id"],
        values["started_at"],
        values.get("alarm_code"),
        values.get("source"),
    )


class FakeOperatorActions:
    """Implements `OperatorActions` (mixed into `FakeUnitOfWork`)."""

    @property
    def db(self) -> Tables:
        raise NotImplementedError

    def add_operator_action(self, **values: Any) -> None:
        self.db.operator_actions.append({"id": len(self.db.operator_actions) + 1, **values})

    def last_job(self, machine_id: str) -> tuple[str, int] | None:
        mine = [b for b in self.db.job_bindings if b["machine_id"] == machine_id]
        return (mine[-1]["order_id"], mine[-1]["seq"]) if mine else None


class FakeDowntime:
    """Implements `DowntimeRecords` (mixed into `FakeUnitOfWork`)."""

    @property
    def db(self) -> Tables:
        raise NotImplementedError

    def open_stop(self, machine_id: str) -> StopRow | None:
        found = [
            r
            for r in self.db.downtime.values()
            if r["machine_id"] == machine_id and r.get("ended_at") is None
        ]
        return _row(max(found, key=lambda r: (r["started_at"], r["id"]))) if found else None

    def get_stop(self, stop_id: int) -> StopRow | None:
        row = self.db.downtime.get(stop_id)
        return None if row is None else _row(row)

    def add_stop(self, **values: Any) -> None:
        stop_id = max(self.db.downtime, default=0) + 1
        self.db.downtime[stop_id] = {"id": stop_id, "ended_at": None, **values}

    def end_stop(self, stop_id: int, ended_at: datetime) -> None:
        self.db.downtime[stop_id]["ended_at"] = ended_at

    def drop_stop(self, stop_id: int) -> None:
        del self.db.downtime[stop_id]

    def update_stop(self, stop_id: int, **values: Any) -> None:
        self.db.downtime[stop_id].update(values)

    def recent_alarm(
        self, machine_id: str, since: datetime, until: datetime
    ) -> tuple[str, str] | None:
        found = [
            a
            for a in self.db.alarms
            if a["machine_id"] == machine_id and since <= a["raised_at"] <= until
        ]
        newest = max(found, key=lambda a: a["raised_at"], default=None)
        return None if newest is None else (newest["code"], newest["message"])

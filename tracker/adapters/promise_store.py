"""The promise book on SQL: watched orders read without the write lock, the states and notices
written in one transaction (opened only when something changed)."""

from __future__ import annotations

import json
from datetime import datetime
from types import TracebackType

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.model import OPEN_STATUS_VALUES
from tracker.domain.promises import PromiseNotice, PromiseState
from tracker.service_layer.promise_watch import WatchedOrder

from . import orm


def notice_payload(notice: PromiseNotice) -> str:
    """The notice as stored in the outbox (no link: links are minted when it is sent)."""
    return json.dumps(
        {
            "order_id": notice.order_id,
            "customer": notice.customer,
            "product": notice.product,
            "due_at": notice.due_at.isoformat(),
            "eta_p50": notice.eta_p50.isoformat(),
            "eta_p90": notice.eta_p90.isoformat(),
            "at_risk": notice.at_risk,
        }
    )


def notice_of(payload: str) -> PromiseNotice:
    """The notice stored by `notice_payload`."""
    data = json.loads(payload)
    return PromiseNotice(
        data["order_id"],
        data["customer"],
        data["product"],
        datetime.fromisoformat(data["due_at"]),
        datetime.fromisoformat(data["eta_p50"]),
        datetime.fromisoformat(data["eta_p90"]),
        bool(data["at_risk"]),
    )


class SqlPromiseBook:
    """`PromiseBook` (tracker/service_layer/promise_watch.py) on the tracker's database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        reads: sessionmaker[Session],
        channels: tuple[str, ...] = ("email", "webhook"),
    ) -> None:
        self._sessions = sessions
        self._reads = reads
        self._channels = channels  # email only with an SMTP server
        self._session: Session | None = None

    def __enter__(self) -> SqlPromiseBook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            self._session.close()  # rolls back anything not committed
            self._session = None

    def _writer(self) -> Session:
        if self._session is None:
            self._session = self._sessions()
        return self._session

    def watched_orders(self) -> list[WatchedOrder]:
        """Open orders with at least one contact, with their promise state."""
        o, p, c = orm.orders.c, orm.order_promises.c, orm.order_contacts.c
        has_contact = select(c.id).where(c.order_id == o.order_id).exists()
        stmt = (
            select(o.order_id, o.customer, o.product, o.due_at, p.at_risk, p.told, p.told_at)
            .outerjoin(orm.order_promises, p.order_id == o.order_id)
            .where(o.status.in_(OPEN_STATUS_VALUES), has_contact)
        )
        with self._reads() as session:
            rows = session.execute(stmt).all()
        return [
            WatchedOrder(
                r.order_id,
                r.customer,
                r.product,
                r.due_at,
                None if r.at_risk is None else PromiseState(r.at_risk, r.told, r.told_at),
            )
            for r in rows
        ]

    def save_state(self, order_id: str, state: PromiseState, now: datetime) -> None:
        session = self._writer()
        t = orm.order_promises
        values = {"at_risk": state.at_risk, "told": state.told, "told_at": state.told_at}
        done = session.execute(
            update(t).where(t.c.order_id == order_id).values(seen_at=now, **values)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            session.execute(insert(t).values(order_id=order_id, seen_at=now, **values))

    def add_notices(self, notice: PromiseNotice, now: datetime) -> int:
        """One outbox row per contact of the order on a channel that sends; returns how many."""
        session = self._writer()
        c = orm.order_contacts.c
        contacts = session.execute(
            select(c.id, c.channel).where(
                c.order_id == notice.order_id, c.channel.in_(self._channels)
            )
        ).all()
        payload = notice_payload(notice)
        for contact in contacts:
            session.execute(
                insert(orm.customer_notices).values(
                    order_id=notice.order_id,
                    contact_id=contact.id,
                    channel=contact.channel,
                    payload=payload,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
        return len(contacts)

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()

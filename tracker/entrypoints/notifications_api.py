"""Customer notifications' routes: staff set and read an order's contacts; a customer adds an
email from their own token (docs/customer-notifications.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tracker.adapters.order_contacts import (
    EMAIL,
    STAFF,
    add_customer_email,
    set_staff_contacts,
)
from tracker.views.link_tokens import token_opens
from tracker.views.order_contacts import order_contacts
from tracker.views.orders import order_token_hash

from .deps import SUPERVISOR, Clock, ReadSession, Settings, TokenSessions
from .errors import STAFF_ERRORS, problems
from .notification_models import (
    MAX_CUSTOMER_EMAILS,
    CustomerSubscription,
    NotificationsPublic,
    OrderNotifications,
    Subscribed,
    WebhookPublic,
)
from .progress_api import ProgressDesk, given_token, progress_desk
from .request_models import OrderId

_NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="order not found")

router = APIRouter(tags=["customer notifications"])


def _public(session: Session, order_id: str, email_delivery: bool) -> NotificationsPublic:
    rows = order_contacts(session, order_id)
    if rows is None:
        raise _NOT_FOUND
    hook = next((r for r in rows if r.channel != EMAIL), None)
    return NotificationsPublic(
        order_id=order_id,
        emails=[r.address for r in rows if r.channel == EMAIL and r.added_by == STAFF],
        customer_emails=[r.address for r in rows if r.channel == EMAIL and r.added_by != STAFF],
        webhook=None if hook is None else WebhookPublic(url=hook.address, signed=hook.signed),
        email_delivery=email_delivery,
    )


def set_contacts(
    sessions: sessionmaker[Session], order_id: str, body: OrderNotifications, now: datetime
) -> bool:
    """Store the staff's contacts of an order; False when there is no such order."""
    hook = body.webhook
    webhook = None if hook is None else (str(hook.url), hook.secret)
    return set_staff_contacts(sessions, order_id, [str(e) for e in body.emails], webhook, now)


class ContactBook:
    """Stores the contacts that come with new orders (a route's dependency)."""

    def __init__(self, sessions: TokenSessions, clock: Clock) -> None:
        self._sessions, self._clock = sessions, clock

    def keep(self, order_id: str, body: OrderNotifications | None) -> None:
        """The contacts given with a new order (none: nothing to do)."""
        if body is not None and (body.emails or body.webhook):
            set_contacts(self._sessions, order_id, body, self._clock())


Contacts = Annotated[ContactBook, Depends()]


@router.put(
    "/api/v1/orders/{order_id}/notifications",
    response_model=NotificationsPublic,
    dependencies=[SUPERVISOR],
    responses={**STAFF_ERRORS, **problems(404)},
)
def put_notifications(
    order_id: OrderId,
    body: OrderNotifications,
    sessions: TokenSessions,
    session: ReadSession,
    clock: Clock,
    settings: Settings,
) -> NotificationsPublic:
    """Who hears when the order's promised date moves: the staff's emails and one signed
    webhook, replacing the staff's earlier ones (the customer's own emails stay)."""
    if not set_contacts(sessions, order_id, body, clock()):
        raise _NOT_FOUND
    return _public(session, order_id, settings.smtp_host is not None)


@router.get(
    "/api/v1/orders/{order_id}/notifications",
    response_model=NotificationsPublic,
    dependencies=[SUPERVISOR],
    responses={**STAFF_ERRORS, **problems(404)},
)
def get_notifications(
    order_id: OrderId, session: ReadSession, settings: Settings
) -> NotificationsPublic:
    """The order's contacts; a webhook's secret is never shown."""
    return _public(session, order_id, settings.smtp_host is not None)


@router.post(
    "/api/v1/orders/{order_id}/progress/notifications",
    status_code=201,
    response_model=Subscribed,
    responses=problems(404, 409, 429),
)
async def subscribe(
    order_id: OrderId,
    body: CustomerSubscription,
    request: Request,
    desk: Annotated[ProgressDesk, Depends(progress_desk)],
    sessions: TokenSessions,
    settings: Settings,
    authorization: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query(description="for tracking links")] = None,
) -> Subscribed:
    """The customer, with their order's token (or a notice's link), asks for its notices at
    an email address (at most 3 per order)."""
    given = given_token(authorization, token)
    desk.limit(request, given)
    added = await run_in_threadpool(_subscribe, desk, sessions, order_id, given, str(body.email))
    if added is None:
        raise _NOT_FOUND
    if not added:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"this order has {MAX_CUSTOMER_EMAILS} emails of yours already",
        )
    return Subscribed(email=str(body.email), email_delivery=settings.smtp_host is not None)


def _subscribe(
    desk: ProgressDesk,
    sessions: sessionmaker[Session],
    order_id: str,
    given: str | None,
    email: str,
) -> bool | None:
    """None for a wrong token (or no order), else whether the email was added."""
    now = desk.clock()
    with desk.sessions() as session:
        if not token_opens(session, order_id, given, order_token_hash(session, order_id), now):
            return None
    return add_customer_email(sessions, order_id, email, now, MAX_CUSTOMER_EMAILS)

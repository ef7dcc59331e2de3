"""The customer's route: one order's progress by its token, cacheable and rate limited."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from tracker.auth.order_tokens import hash_token, token_matches
from tracker.domain.planning.model import Plan
from tracker.views import orders as order_views
from tracker.views.link_tokens import token_opens

from .deps import AppParts
from .errors import problems
from .limits import TokenBuckets, too_many
from .metrics import ApiMetrics
from .order_responses import OrderProgressPublic
from .progress_cache import Cached, ProgressCache
from .request_models import OrderId

_NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="order not found")
# fields that change with every answer without anything having happened
_VOLATILE = {"as_of"}


def etag_of(progress: OrderProgressPublic) -> str:
    """A strong ETag: the hash of the answer without its volatile fields, the ETA (and its
    range) to the minute.

    The ETA of a running order is re-projected from now on every request; to the minute, a
    poll within the same minute and with no news is answered 304.
    """
    content = progress.model_dump(mode="json", exclude=_VOLATILE)
    # the range moves with the ETA; the forecast's P50/P90 with each plan
    for name in ("eta", "eta_earliest", "eta_latest", "eta_p50", "eta_p90"):
        at = getattr(progress, name)
        content[name] = at.replace(second=0, microsecond=0).isoformat() if at else None
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(canonical).hexdigest()[:32] + '"'


def none_match(header: str | None, etag: str) -> bool:
    """True when If-None-Match names this ETag (weak comparison, as RFC 9110 asks) or `*`."""
    if header is None:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def given_token(authorization: str | None, token: str | None) -> str | None:
    """The customer's token: a bearer's, else the tracking link's `?token=`."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return token


class ProgressDesk:
    """One app's state of the customer's poll: rate limits, answers kept, counters."""

    def __init__(self, parts: AppParts, metrics: ApiMetrics):
        settings = parts.settings
        # what the poll reads, kept here: one dependency per request rather than four (each
        # costs FastAPI a resolution, and the 304 answer on the event loop is that cheap)
        self.sessions, self.clock, self.plans = parts.read_sessions, parts.clock, parts.plans
        self.outlook = parts.outlook
        self.per_ip = TokenBuckets(settings.progress_rate_per_ip, settings.progress_burst_per_ip)
        self.per_token = TokenBuckets(
            settings.progress_rate_per_token, settings.progress_burst_per_token
        )
        self.down_allowance_s = settings.down_allowance_s
        self.cache_control = {"Cache-Control": f"private, max-age={settings.progress_max_age_s}"}
        self.recent = ProgressCache()
        parts.changes.listen(self.recent.forget)
        self.counted = metrics.progress

    def limit(self, request: Request, given: str | None) -> None:
        """429 when the client's address, or the token, asks too often."""
        wait = self.per_ip.take(request.client.host if request.client else "unknown")
        if not wait and given:
            # keyed by the token's hash: the limiter keeps no usable tokens in memory
            wait = self.per_token.take(hash_token(given))
        if wait:
            self.counted.labels("rate_limited").inc()
            raise too_many(wait, "too many requests")


async def progress_desk(request: Request) -> ProgressDesk:
    """The app's `ProgressDesk` (made by `create_app`)."""
    return cast(ProgressDesk, request.app.state.progress)


router = APIRouter(tags=["customers"])


@router.get(
    "/api/v1/orders/{order_id}/progress",
    response_model=OrderProgressPublic,
    responses={
        304: {"description": "not modified since the ETag given in If-None-Match"},
        **problems(404, 413, 429),
    },
)
async def order_progress(
    order_id: OrderId,
    request: Request,
    desk: Annotated[ProgressDesk, Depends(progress_desk)],
    authorization: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query(description="for tracking links")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    """Status, percent, ETA and operations of the token's order; poll with If-None-Match."""
    given = given_token(authorization, token)
    desk.limit(request, given)
    plan = desk.plans()
    cached = desk.recent.get(order_id, plan)
    # compared even with no answer kept (against a dummy): every miss does the same work
    if not token_matches(given, cached.token_hash if cached else None):
        # every 404 (no order, a wrong token, the order's answer kept or not) comes from
        # this one path; a poll with no news never gets here. On a worker thread.
        cached = await run_in_threadpool(_load, desk, order_id, given, plan)
    if cached is None:
        desk.counted.labels("not_found").inc()
        raise _NOT_FOUND
    headers = {"ETag": cached.etag, **desk.cache_control, "Vary": "Authorization"}
    if none_match(if_none_match, cached.etag):
        desk.counted.labels("not_modified").inc()
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    desk.counted.labels("ok").inc()
    # serialised once, when the answer was made: a kept answer costs no validation again
    return Response(cached.body, media_type="application/json", headers=headers)


def _load(desk: ProgressDesk, order_id: str, given: str | None, plan: Plan | None) -> Cached | None:
    """The answer for a matching token (the order's, or a notice's link token); None for any
    miss, after the same work: two indexed reads (the order's token hash, the link tokens) and
    constant-time compares (against a dummy when there is no order). Only a matching token
    reads the order itself."""
    generation = desk.recent.generation(order_id)
    with desk.sessions() as session:
        stored = order_views.order_token_hash(session, order_id)
        # a notice's tracking link opens the order too (docs/customer-notifications.md)
        if not token_opens(session, order_id, given, stored, desk.clock()):
            return None
        found = order_views.read_order(session, order_id, plan)
        states = order_views.machine_states(session, found[0]) if found else {}
    if found is None or found[0].token_hash != stored:  # rotated or gone in between
        return None
    order, planned = found
    forecast = desk.outlook().of(order_id)
    progress = order_views.order_progress(
        order, desk.clock(), plan, planned, states, desk.down_allowance_s, forecast
    )
    body = OrderProgressPublic.model_validate(progress)
    content = body.model_dump_json().encode()
    entry = Cached(order.token_hash, content, etag_of(body), plan, time.monotonic())
    desk.recent.put(order_id, entry, generation)
    return entry

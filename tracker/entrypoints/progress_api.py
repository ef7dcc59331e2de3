"""The customer's route: one order's progress by its token, cacheable and rate limited."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from tracker import views
from tracker.bootstrap import Tracker
from tracker.domain.planning.model import Plan
from tracker.tokens import hash_token, token_matches

from .auth import problems
from .limits import TokenBuckets, too_many
from .metrics import ApiMetrics
from .progress_cache import Cached, ProgressCache
from .schemas import OrderId, OrderProgressPublic

_NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="order not found")
# fields that change with every answer without anything having happened
_VOLATILE = {"as_of"}


def etag_of(progress: OrderProgressPublic) -> str:
    """A strong ETag: the hash of the answer without its volatile fields, the ETA to the minute.

    The ETA of a running order is re-projected from now on every request; to the minute, a
    poll within the same minute and with no news is answered 304.
    """
    content = progress.model_dump(mode="json", exclude=_VOLATILE)
    content["eta"] = progress.eta.replace(second=0, microsecond=0).isoformat()
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(canonical).hexdigest()[:32] + '"'


def none_match(header: str | None, etag: str) -> bool:
    """True when If-None-Match names this ETag (weak comparison, as RFC 9110 asks) or `*`."""
    if header is None:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def make_router(tracker: Tracker, metrics: ApiMetrics) -> APIRouter:
    """GET /api/v1/orders/{id}/progress with a bearer token or `?token=`."""
    settings = tracker.settings
    per_ip = TokenBuckets(settings.progress_rate_per_ip, settings.progress_burst_per_ip)
    per_token = TokenBuckets(settings.progress_rate_per_token, settings.progress_burst_per_token)
    cache = {"Cache-Control": f"private, max-age={settings.progress_max_age_s}"}
    recent = ProgressCache()
    tracker.changes.listen(recent.forget)
    router = APIRouter(tags=["customers"])

    def _limit(request: Request, given: str | None) -> None:
        wait = per_ip.take(request.client.host if request.client else "unknown")
        if not wait and given:
            # keyed by the token's hash: the limiter keeps no usable tokens in memory
            wait = per_token.take(hash_token(given))
        if wait:
            metrics.progress.labels("rate_limited").inc()
            raise too_many(wait, "too many requests")

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
        authorization: Annotated[str | None, Header()] = None,
        token: Annotated[str | None, Query(description="for tracking links")] = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Any:
        """Status, percent, ETA and operations of the token's order; poll with If-None-Match."""
        given = token
        if authorization and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        _limit(request, given)
        plan = tracker.plan
        cached = recent.get(order_id, plan)
        # compared even with no answer kept (against a dummy): every miss does the same work
        if not token_matches(given, cached.token_hash if cached else None):
            # every 404 (no order, a wrong token, the order's answer kept or not) comes from
            # this one path; a poll with no news never gets here. On a worker thread.
            cached = await run_in_threadpool(_load, order_id, given, plan)
        if cached is None:
            metrics.progress.labels("not_found").inc()
            raise _NOT_FOUND
        headers = {"ETag": cached.etag, **cache, "Vary": "Authorization"}
        if none_match(if_none_match, cached.etag):
            metrics.progress.labels("not_modified").inc()
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        metrics.progress.labels("ok").inc()
        # serialised once, when the answer was made: a kept answer costs no validation again
        return Response(cached.body, media_type="application/json", headers=headers)

    def _load(order_id: str, given: str | None, plan: Plan | None) -> Cached | None:
        """The answer for a matching token; None for any miss, after the same work: one
        indexed read of the token's hash and one constant-time compare (against a dummy
        when there is no order). Only a matching token reads the order itself."""
        generation = recent.generation(order_id)
        with tracker.read_sessions() as session:
            stored = views.order_token_hash(session, order_id)
            if not token_matches(given, stored):
                return None
            found = views.read_order(session, order_id, plan)
        if found is None or found[0].token_hash != stored:  # rotated or gone in between
            return None
        order, planned = found
        progress = views.order_progress(order, tracker.clock(), plan, planned)
        body = OrderProgressPublic.model_validate(progress)
        content = body.model_dump_json().encode()
        entry = Cached(order.token_hash, content, etag_of(body), plan, time.monotonic())
        recent.put(order_id, entry, generation)
        return entry

    return router

"""Health routes: the process is up, the tracker is ready, and its Prometheus metrics."""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from tracker.views.parked import parked_count

from .deps import Consumer, InstanceRole, MqttConnected, ReadSessions, Settings
from .metrics import ApiMetrics

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a part is not ready; the body names it"}})
def readyz(
    sessions: ReadSessions,
    consumer: Consumer,
    connected: MqttConnected,
    settings: Settings,
    role: InstanceRole,
) -> JSONResponse:
    """Ready to serve: the database answers, the MQTT client is connected and the event
    consumer is not stuck; `role` says whether this instance leads the singleton duties
    (`leader`) or stands by (`follower`): both serve the API."""
    checks = {"database": "ok", "mqtt": "ok", "events": "ok"}
    parked: int | None = None
    try:
        with sessions() as session:  # read-only: readiness never waits for the write lock
            session.execute(text("SELECT 1"))
            parked = parked_count(session)
    except Exception as exc:
        checks["database"] = f"failed: {type(exc).__name__}"
    if not connected():
        checks["mqtt"] = "failed: not connected"
    limit_s = settings.stuck_after_s
    oldest_s = consumer.oldest_unacked_s()
    if oldest_s > limit_s:
        checks["events"] = (
            f"failed: stuck: the oldest unacknowledged event is {oldest_s:.1f} s old"
            f" (limit {limit_s:g} s)"
        )
    ready = all(value == "ok" for value in checks.values())
    backlog = {"lag": consumer.lag, "oldest_unacked_s": round(oldest_s, 3), "parked": parked}
    return JSONResponse(
        {"status": "ready" if ready else "not ready", **checks, **backlog, "role": role()},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", response_class=Response)
def prometheus(request: Request) -> Response:
    """Prometheus text format."""
    metrics = cast(ApiMetrics, request.app.state.metrics)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

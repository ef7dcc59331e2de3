"""HTTP API: customers read their order's progress with its token; staff use role API keys."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from tracker.access import Role
from tracker.bootstrap import Tracker

from . import dead_letters_api, floor_api, jobs_api, orders_api, progress_api, web
from .auth import Access
from .docs import offline_app
from .limits import BodyLimit
from .metrics import ApiMetrics
from .strict_json import StrictBodies, validation_error

IMPORT_PATH = "/api/v1/orders/import"


def create_app(tracker: Tracker) -> FastAPI:
    """The FastAPI app bound to one running tracker."""
    settings = tracker.settings
    # /docs and /redoc load Swagger UI and ReDoc from the package, not from a CDN: a plant
    # network often has no internet
    app = offline_app(title="shopfloor tracker", version="0.1.0", lifespan=tracker.lifespan)
    access = Access.from_settings(settings)
    metrics = ApiMetrics(tracker)
    # added last, so outermost: a too large body is refused before routing, and still counted
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        per_path={IMPORT_PATH: settings.import_max_bytes},
        # NaN, Infinity or deep nesting is a 422 before any route parses it; the import reads
        # its own file with the same parser and answers in its own shape
        check=StrictBodies(skip={IMPORT_PATH}),
    )
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(metrics.middleware)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        responses={503: {"description": "a part is not ready; the body names it"}},
    )
    def readyz() -> JSONResponse:
        """Ready to serve: the database answers, the MQTT client is connected and the event
        consumer is not stuck."""
        parts = {"database": "ok", "mqtt": "ok", "events": "ok"}
        parked: int | None = None
        try:
            with tracker.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            parked = tracker.parked.count()
        except Exception as exc:
            parts["database"] = f"failed: {type(exc).__name__}"
        if not tracker.client.is_connected():
            parts["mqtt"] = "failed: not connected"
        consumer, limit_s = tracker.consumer, settings.stuck_after_s
        oldest_s = consumer.oldest_unacked_s()
        if oldest_s > limit_s:
            parts["events"] = (
                f"failed: stuck: the oldest unacknowledged event is {oldest_s:.1f} s old"
                f" (limit {limit_s:g} s)"
            )
        ready = all(value == "ok" for value in parts.values())
        backlog = {"lag": consumer.lag, "oldest_unacked_s": round(oldest_s, 3), "parked": parked}
        return JSONResponse(
            {"status": "ready" if ready else "not ready", **parts, **backlog},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["health"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus text format."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(orders_api.make_router(tracker, access, settings.import_max_bytes))
    app.include_router(progress_api.make_router(tracker, metrics))
    app.include_router(floor_api.make_router(tracker, access))
    app.include_router(jobs_api.make_router(tracker, access))
    app.include_router(dead_letters_api.make_router(tracker, access))
    app.include_router(web.make_router(tracker, access.require(Role.VIEWER)))
    return app

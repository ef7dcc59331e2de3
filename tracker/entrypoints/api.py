"""HTTP API: customers read their order's progress with its token; staff use role API keys."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from tracker.bootstrap import Tracker
from tracker.service_layer.what_if import what_if

from . import (
    board_api,
    dead_letters_api,
    downtime_api,
    floor_api,
    health,
    jobs_api,
    notifications_api,
    oee_api,
    operator_api,
    orders_api,
    plant_api,
    progress_api,
    reports_api,
    web,
    what_if_api,
)
from .auth import Access
from .deps import AppParts
from .docs import offline_app
from .incidents_api import router as incidents_router
from .limits import BodyLimit
from .metrics import ApiMetrics
from .progress_api import ProgressDesk
from .strict_json import StrictBodies, validation_error
from .telemetry_api import router as telemetry_router
from .timeline_api import router as timeline_router

IMPORT_PATH = "/api/v1/orders/import"


def app_parts(tracker: Tracker) -> AppParts:
    """The pieces of `tracker` that routes take as dependencies (`deps.py`)."""
    return AppParts(
        settings=tracker.settings,
        read_sessions=tracker.read_sessions,
        token_sessions=tracker.sessions,
        planning_reads=tracker.planning_reads,
        bus=tracker.bus,
        clock=tracker.clock,
        plans=lambda: tracker.plan,
        plant=tracker.plant,
        quote=tracker.quote,
        changes=tracker.changes,
        parked=tracker.parked,
        consumer=tracker.consumer,
        mqtt_connected=tracker.client.is_connected,
        outlook=lambda: tracker.foresight.current,
        what_if=lambda changes: what_if(
            tracker.planning_reads,
            tracker.plant,
            tracker.clock(),
            tracker.planner.policy,
            tracker.foresight,
            changes,
            tracker.settings.foresight_at_risk_below,
        ),
        role=lambda: tracker.leadership.role,
    )


def create_app(tracker: Tracker) -> FastAPI:
    """The FastAPI app bound to one running tracker."""
    settings = tracker.settings
    # /docs and /redoc load Swagger UI and ReDoc from the package, not from a CDN: a plant
    # network often has no internet
    app = offline_app(title="shopfloor tracker", version="0.1.0", lifespan=tracker.lifespan)
    metrics = ApiMetrics(
        tracker.consumer,
        tracker.read_sessions,
        tracker.leadership,
        tracker.notify_customers.senders,
    )
    # per app (tests build many apps in one process): routes find these through `deps.py`
    app.state.parts = app_parts(tracker)
    app.state.access = Access.from_settings(settings)
    app.state.metrics = metrics
    app.state.progress = ProgressDesk(app.state.parts, metrics)
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
    for router in (
        health.router,
        telemetry_router,
        orders_api.router,
        progress_api.router,
        notifications_api.router,
        plant_api.router,
        floor_api.router,
        timeline_router,
        incidents_router,
        jobs_api.router,
        operator_api.router,
        dead_letters_api.router,
        oee_api.router,
        downtime_api.router,
        what_if_api.router,
        reports_api.router,
        board_api.router,
        web.router,
    ):
        app.include_router(router)
    return app

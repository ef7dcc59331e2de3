"""The API against its own OpenAPI schema (schemathesis): generated requests, with a
supervisor's key, never get a 5xx, and every answer matches the schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.integration.api_keys import SUPERVISOR, as_, create, make
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app

pytestmark = pytest.mark.integration

STREAMS = {"GET /api/v1/events"}


def _started_elsewhere(app: ASGIApp) -> ASGIApp:
    """The app without its lifespan: schemathesis enters one per request, the tracker
    starts once (by the test's own client)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"{message['type']}.complete"})
            if kind == "shutdown":
                return

    return wrapped


@pytest.fixture
def api_schema(make_tracker: Callable[..., Tracker]) -> Iterator[Any]:
    """The running app's schema; one order exists, so some ids hit something."""
    app = create_app(make(make_tracker))
    with TestClient(app) as client:
        create(client, "SO-1")
        yield schemathesis.openapi.from_asgi("/openapi.json", _started_elsewhere(app))


def test_generated_requests_get_no_5xx_and_answers_match_the_schema(api_schema: Any) -> None:
    checks = [
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
        content_type_conformance,
    ]
    # the board's live event stream (web.py) answers for as long as the client listens
    operations = [
        op
        for op in (result.ok() for result in api_schema.get_all_operations())
        if op.label not in STREAMS
    ]
    assert len(operations) > 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=as_(SUPERVISOR), checks=checks)

        check()

"""The API against its own OpenAPI schema (schemathesis): generated requests, with a
supervisor's key, never get a 5xx, and every answer matches the schema; so do generated
bodies with a NaN or an Infinity put in, or nested past the parser's limit (422)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
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

from gateway.sinks import SqliteSink
from tests.integration.api_keys import SUPERVISOR, as_, create, make
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.entrypoints.strict_json import MAX_DEPTH
from tracker.settings import TelemetrySettings

pytestmark = pytest.mark.integration

STREAMS = {"GET /api/v1/events"}
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
_HOLE = "__not_json__"


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
def app_and_client(
    make_tracker: Callable[..., Tracker], tmp_path: Path
) -> Iterator[tuple[ASGIApp, TestClient]]:
    """The running app; one order exists, so some ids hit something; machine charts read an
    empty SQLite telemetry store (with none they answer 503)."""
    store = SqliteSink(tmp_path / "telemetry.db")
    store.connect()
    store.close()
    telemetry = TelemetrySettings(kind="sqlite", sqlite_path=tmp_path / "telemetry.db")
    app = create_app(make(make_tracker, telemetry=telemetry))
    with TestClient(app) as client:
        create(client, "SO-1")
        yield app, client


@pytest.fixture
def api_schema(app_and_client: tuple[ASGIApp, TestClient]) -> Any:
    """The running app's schema."""
    return schemathesis.openapi.from_asgi("/openapi.json", _started_elsewhere(app_and_client[0]))


def _operations(api_schema: Any) -> list[Any]:
    # the board's live event stream (web.py) answers for as long as the client listens
    return [
        op
        for op in (result.ok() for result in api_schema.get_all_operations())
        if op.label not in STREAMS
    ]


def _poisoned(body: Any) -> list[bytes]:
    """The generated body with a NaN and an Infinity put in, and nested past the limit."""
    holed = {**body, "quantity": _HOLE} if isinstance(body, dict) else [body, _HOLE]
    text = json.dumps(holed)
    deep = '{"a":' * (MAX_DEPTH * 40) + json.dumps(body) + "}" * (MAX_DEPTH * 40)
    return [text.replace(f'"{_HOLE}"', word).encode() for word in ("NaN", "-Infinity")] + [
        deep.encode()
    ]


def _each_case(operation: Any, examples: int, check: Callable[[Any], None]) -> None:
    """`check` on `examples` cases generated for `operation`, the same ones on every run."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        check(case)

    run()


def test_generated_requests_get_no_5xx_and_answers_match_the_schema(api_schema: Any) -> None:
    operations = _operations(api_schema)
    assert len(operations) > 15

    def check(case: Any) -> None:
        case.call_and_validate(headers=as_(SUPERVISOR), checks=CHECKS)

    for operation in operations:
        _each_case(operation, 15, check)


def test_generated_bodies_with_nan_infinity_or_deep_nesting_get_a_422_that_matches_the_schema(
    api_schema: Any, app_and_client: tuple[ASGIApp, TestClient]
) -> None:
    client = app_and_client[1]

    def check(case: Any) -> None:
        for body in _poisoned(case.body):
            response = client.request(
                case.method,
                case.formatted_path,
                params=case.query,
                content=body,
                headers={**as_(SUPERVISOR), "Content-Type": "application/json"},
            )
            assert response.status_code == 422, (case.path, body[:60], response.text)
            case.validate_response(response, checks=CHECKS)

    with_bodies = [op for op in _operations(api_schema) if op.body]
    assert len(with_bodies) >= 6  # create, import, change, cancel, quote, acknowledge
    for operation in with_bodies:
        _each_case(operation, 5, check)

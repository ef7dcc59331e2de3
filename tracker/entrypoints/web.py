"""The web side of the tracker: the supervisor board, the customer tracking page, live events."""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tracker.change_feed import END, ChangeFeed
from tracker.domain.planning.model import Plan
from tracker.service_layer.bus import Changes
from tracker.service_layer.foresight import Outlook
from tracker.views import live as live_views

from .deps import VIEWER, AppParts, Clock, Feed, Outlooks, Plans, ReadSessions, parts
from .request_models import MachineId

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
_ASSETS = {
    "board.js": "text/javascript",
    "board_jobs.js": "text/javascript",
    "board_floor.js": "text/javascript",
    "board_cards.js": "text/javascript",
    "board_alerts.js": "text/javascript",
    "board_machine.js": "text/javascript",
    "board_gantt.js": "text/javascript",
    "uPlot.iife.min.js": "text/javascript",  # uPlot 1.6.32 (MIT, uPlot.LICENSE), no CDN
    "uPlot.min.css": "text/css",
    "board.css": "text/css",
    "board_gantt.css": "text/css",
    "track.js": "text/javascript",
    "common.js": "text/javascript",
    "i18n.js": "text/javascript",
    "shift_report.js": "text/javascript",
    "shift_report.css": "text/css",
    "operator.js": "text/javascript",
    "operator.css": "text/css",
}
# the pages load only their own files and talk only to this origin; no referrer, so a
# tracking link's token never leaves in a Referer header
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering
HEARTBEAT_S = 15.0  # a comment line this often keeps proxies from closing an idle stream


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event: its name and a one-line JSON body."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def merge(batch: list[Changes]) -> Changes:
    """Everything a run of commits touched, as one change."""
    return Changes(
        frozenset().union(*(c.orders for c in batch)),
        frozenset().union(*(c.alerts for c in batch)),
        frozenset().union(*(c.machines for c in batch)),
    )


class EventSource:
    """What the stream says, read from the database: a snapshot, or the state of changed ids."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        plans: Callable[[], Plan | None],
        outlook: Callable[[], Outlook] = Outlook,
    ) -> None:
        self._sessions = sessions  # read-only: the board never waits for the write lock
        self._clock = clock
        self._plans = plans
        self._outlook = outlook

    def snapshot(self) -> dict[str, Any]:
        """Open orders, open alerts and every machine."""
        now, plan = self._clock(), self._plans()
        with self._sessions() as session:
            return {
                "orders": _foreseen(live_views.open_orders(session, now, plan), self._outlook()),
                "alerts": live_views.open_alerts(session),
                "machines": live_views.machines(session),
                "as_of": now.isoformat(),
            }

    def changed(self, changes: Changes) -> dict[str, Any]:
        """The changed ids and the current state of each (an id without state is gone)."""
        now, plan = self._clock(), self._plans()
        with self._sessions() as session:
            return {
                "ids": {
                    "orders": sorted(changes.orders),
                    "alerts": sorted(changes.alerts),
                    "machines": sorted(changes.machines),
                },
                "orders": _foreseen(
                    live_views.orders(session, changes.orders, plan), self._outlook()
                ),
                "alerts": live_views.alerts(session, changes.alerts),
                "machines": live_views.machines(session, changes.machines),
                "as_of": now.isoformat(),
            }


def _foreseen(orders: list[dict[str, Any]], outlook: Outlook) -> list[dict[str, Any]]:
    """Each order with its P(on time) and the machine that threatens it (None: no forecast;
    the board shows the forecast of the order's last change)."""
    for order in orders:
        forecast = outlook.of(order["order_id"])
        order["p_on_time"] = round(forecast.p_on_time, 3) if forecast is not None else None
        order["p_on_time_reason"] = forecast.reason if forecast is not None else None
    return orders


async def event_stream(
    feed: ChangeFeed, source: EventSource, heartbeat_s: float
) -> AsyncIterator[str]:
    """The SSE text of one client's stream; it ends when the feed closes."""
    # a snapshot, then one `change` per run of commits that came together, `reload` and a new
    # snapshot when this client fell behind, a comment line when idle for `heartbeat_s`
    async with feed.subscribe() as queue:
        log.info("event stream opened (%d open)", feed.subscribers)
        try:
            # subscribed first: a commit during the snapshot read comes again as a change
            yield "retry: 3000\n" + sse("snapshot", await run_in_threadpool(source.snapshot))
            while True:
                try:
                    first = await asyncio.wait_for(queue.get(), heartbeat_s)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                batch = [first]
                while not queue.empty():  # commits that came meanwhile go out as one event
                    batch.append(queue.get_nowait())
                if any(item is END for item in batch):
                    return
                if None in batch:
                    yield sse("reload", {"reason": "overflow"})
                    yield sse("snapshot", await run_in_threadpool(source.snapshot))
                    continue
                changes = merge([item for item in batch if item is not None])
                yield sse("change", await run_in_threadpool(source.changed, changes))
        finally:
            log.info("event stream closed")


def _page(name: str, app: AppParts) -> HTMLResponse:
    """A page with the plant's time zone in a <meta> (common.js shows every time in it)."""
    zone = html.escape(app.plant.timezone, quote=True)
    text = (STATIC / name).read_text(encoding="utf-8")
    text = text.replace("<head>", f'<head>\n  <meta name="plant-timezone" content="{zone}">', 1)
    return HTMLResponse(text, headers=_PAGE_HEADERS)


# pages and the event stream; the stream needs a viewer's key
router = APIRouter()


@router.get(
    "/api/v1/events",
    dependencies=[VIEWER],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE"}},
)
async def events(
    feed: Feed,
    sessions: ReadSessions,
    clock: Clock,
    plans: Plans,
    outlook: Outlooks,
) -> StreamingResponse:
    """Live changes as Server-Sent Events: `snapshot`, `change`, `reload` (see docs/board.md)."""
    return StreamingResponse(
        event_stream(feed, EventSource(sessions, clock, plans, outlook), HEARTBEAT_S),
        media_type="text/event-stream",
        headers=_STREAM_HEADERS,
    )


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/board", status_code=307)  # the board is what people open


@router.get("/board", include_in_schema=False)
def board(app: Annotated[AppParts, Depends(parts)]) -> HTMLResponse:
    return _page("board.html", app)


@router.get("/reports/shift", include_in_schema=False)
def shift_report(app: Annotated[AppParts, Depends(parts)]) -> HTMLResponse:
    return _page("shift_report.html", app)


@router.get("/track/{order_id}", include_in_schema=False)
def track(order_id: str, app: Annotated[AppParts, Depends(parts)]) -> HTMLResponse:
    # the same page for any id: only the progress call, with the token, says more
    return _page("track.html", app)


@router.get("/operator/{machine_id}", include_in_schema=False)
def operator(machine_id: MachineId, app: Annotated[AppParts, Depends(parts)]) -> HTMLResponse:
    # the same page for any machine: the terminal's key says what it may see and do
    return _page("operator.html", app)


@router.get("/static/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, detail="not found")
    return FileResponse(STATIC / name, media_type=media_type, headers=_PAGE_HEADERS)

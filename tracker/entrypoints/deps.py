"""What routes take, as FastAPI dependencies: a read-only session, the bus, the clock, the
current plan, the caller's key; never the whole `Tracker`.

`create_app` puts the tracker's pieces in `app.state.parts` (an `AppParts`); the functions
here read them from the request's app, so routers are plain module-level `APIRouter`s. The
getters are `async`: FastAPI runs them on the event loop, where a sync one would cost a trip
to the thread pool on every request (the customer's poll is answered on the loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol, cast

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from tracker.adapters.parked import ParkedMessages
from tracker.auth.api_keys import Principal, Role
from tracker.change_feed import ChangeFeed
from tracker.domain.commands import OperationSpec
from tracker.domain.planning.model import Plan
from tracker.domain.planning.quote import Quote
from tracker.domain.routing import Plant
from tracker.entrypoints.mqtt_consumer import EventConsumer
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.foresight import Outlook
from tracker.service_layer.unit_of_work import PlanningSessions
from tracker.settings import TrackerSettings

from .auth import key_of


class Quoter(Protocol):
    """Capable-to-promise against the current plan (`Tracker.quote`)."""

    def __call__(
        self,
        operations: Sequence[OperationSpec],
        quantity: int,
        priority: int,
        due_at: datetime | None = None,
    ) -> tuple[Quote, datetime]: ...


@dataclass(frozen=True)
class AppParts:
    """The pieces of one running tracker that routes may take, kept on `app.state.parts`."""

    settings: TrackerSettings
    read_sessions: sessionmaker[Session]  # every read: on SQLite no wait for the write lock
    token_sessions: sessionmaker[Session]  # the writer's, only to rotate or revoke a token
    planning_reads: PlanningSessions  # the planner's bulk reads, on read-only sessions
    bus: MessageBus
    clock: Callable[[], datetime]
    plans: Callable[[], Plan | None]
    plant: Plant
    quote: Quoter
    changes: ChangeFeed
    parked: ParkedMessages
    consumer: EventConsumer
    mqtt_connected: Callable[[], bool]
    # P(on time), P50 and P90 of the open orders, made after each plan
    outlook: Callable[[], Outlook] = Outlook
    # what-if over the current state (`Tracker.what_if`); None: not offered
    what_if: Callable[..., Any] | None = None
    role: Callable[[], str] = lambda: "leader"  # leader or follower of the singleton duties


def parts(request: Request) -> AppParts:
    """The tracker's pieces behind this request's app."""
    return cast(AppParts, request.app.state.parts)


def read_session(request: Request) -> Iterator[Session]:
    """A read-only session for one request, closed after it."""
    with parts(request).read_sessions() as session:
        yield session


async def read_sessions(request: Request) -> sessionmaker[Session]:
    """The read-only session factory, for reads a route makes only on some paths."""
    return parts(request).read_sessions


async def planning_reads(request: Request) -> PlanningSessions:
    """The planner's bulk reads (read-only sessions): machine queues from the current plan."""
    return parts(request).planning_reads


async def bus(request: Request) -> MessageBus:
    """The message bus: every change of orders, machines and alerts goes through it."""
    return parts(request).bus


async def clock(request: Request) -> Callable[[], datetime]:
    """The tracker's clock (tests drive it)."""
    return parts(request).clock


async def current_plan(request: Request) -> Plan | None:
    """The current plan (None until the first one is made)."""
    return parts(request).plans()


async def current_outlook(request: Request) -> Outlook:
    """The forecasts of the open orders (empty until the first plan's are made)."""
    return parts(request).outlook()


async def outlooks(request: Request) -> Callable[[], Outlook]:
    """The open orders' forecasts as time goes on (a live stream outlasts many plans)."""
    return parts(request).outlook


async def plans(request: Request) -> Callable[[], Plan | None]:
    """The current plan as time goes on (a live stream outlasts many plans)."""
    return parts(request).plans


async def plant(request: Request) -> Plant:
    """The plant file: machines, work centers and product templates."""
    return parts(request).plant


async def quotes(request: Request) -> Quoter:
    """Capable-to-promise against the current plan."""
    return parts(request).quote


async def parked(request: Request) -> ParkedMessages:
    """The parked messages' store, to replay or discard one (the listing is a view)."""
    return parts(request).parked


async def consumer(request: Request) -> EventConsumer:
    """The MQTT event consumer: its backlog, and replaying a parked message through it."""
    return parts(request).consumer


async def instance_role(request: Request) -> Callable[[], str]:
    """This instance's role: `leader` or `follower`."""
    return parts(request).role


async def mqtt_connected(request: Request) -> Callable[[], bool]:
    """Whether the tracker's MQTT client is connected now."""
    return parts(request).mqtt_connected


async def change_feed(request: Request) -> ChangeFeed:
    """Committed changes, fanned out to the live streams and the progress cache."""
    return parts(request).changes


async def token_sessions(request: Request) -> sessionmaker[Session]:
    """The writer's session factory, only to rotate or revoke a customer's token."""
    return parts(request).token_sessions


async def settings(request: Request) -> TrackerSettings:
    """The tracker's settings."""
    return parts(request).settings


ReadSession = Annotated[Session, Depends(read_session)]
ReadSessions = Annotated[sessionmaker[Session], Depends(read_sessions)]
Bus = Annotated[MessageBus, Depends(bus)]
PlanningInputs = Annotated[PlanningSessions, Depends(planning_reads)]
Clock = Annotated[Callable[[], datetime], Depends(clock)]
CurrentPlan = Annotated[Plan | None, Depends(current_plan)]
CurrentOutlook = Annotated[Outlook, Depends(current_outlook)]
Outlooks = Annotated[Callable[[], Outlook], Depends(outlooks)]
Plans = Annotated[Callable[[], Plan | None], Depends(plans)]
PlantLayout = Annotated[Plant, Depends(plant)]
Settings = Annotated[TrackerSettings, Depends(settings)]
Quotes = Annotated[Quoter, Depends(quotes)]
Parked = Annotated[ParkedMessages, Depends(parked)]
Consumer = Annotated[EventConsumer, Depends(consumer)]
MqttConnected = Annotated[Callable[[], bool], Depends(mqtt_connected)]
InstanceRole = Annotated[Callable[[], str], Depends(instance_role)]
Feed = Annotated[ChangeFeed, Depends(change_feed)]
TokenSessions = Annotated[sessionmaker[Session], Depends(token_sessions)]

# the caller's key, of a role or above: a route's parameter (`who: Operator`) when it uses the
# key's holder, else `dependencies=[VIEWER]`
viewer_key, operator_key = key_of(Role.VIEWER), key_of(Role.OPERATOR)
supervisor_key, admin_key = key_of(Role.SUPERVISOR), key_of(Role.ADMIN)
Viewer = Annotated[Principal, Depends(viewer_key)]
Operator = Annotated[Principal, Depends(operator_key)]
VIEWER, SUPERVISOR, ADMIN = Depends(viewer_key), Depends(supervisor_key), Depends(admin_key)

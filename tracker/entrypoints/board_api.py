"""`GET /api/v1/board`: what the board shows beside its event stream: every machine's card
(declared machines that never reported too, the alarm and expected return of a stopped one)
and the plant's time scale (a demo runs at a speed)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tracker.views.board import machine_cards

from .deps import VIEWER, Clock, CurrentPlan, PlantLayout, ReadSession, Settings
from .errors import STAFF_ERRORS

router = APIRouter(prefix="/api/v1", responses=STAFF_ERRORS, tags=["machines"])


class AlarmNotePublic(BaseModel):
    """The alarm that came with a stop."""

    code: str
    text: str
    raised_at: datetime | None = Field(description="null when taken from the downtime record")


class MachineCardPublic(BaseModel):
    """One machine as the board's card shows it."""

    machine_id: str
    declared: bool = Field(description="in the plant file")
    reported: bool = Field(description="the tracker has heard from it")
    state: str = Field(description="its state; UNKNOWN for a declared machine never heard from")
    state_since: datetime | None
    last_seen: datetime | None
    alarm: AlarmNotePublic | None = Field(description="DOWN or OFFLINE: the stop's alarm")
    expected_back: datetime | None = Field(description="DOWN or OFFLINE: when it should run")
    expected_basis: str | None = Field(
        description="`repairs`: the median of past stops with the same alarm code; "
        "`plan`: the plan's allowance for a stop (SHOPFLOOR_DOWN_ALLOWANCE_S), both from "
        "the stop's start"
    )
    repairs: int = Field(description="how many past stops the typical repair is the median of")
    typical_repair_s: float | None
    plan_back: datetime | None = Field(
        description="when the current plan (and so every ETA) has it back: the allowance "
        "from the plan's making"
    )


class BoardPublic(BaseModel):
    """The machine cards, by id, and the plant's time scale."""

    as_of: datetime
    speed: float = Field(description="plant seconds per real second (SHOPFLOOR_DEMO_SPEED)")
    machines: list[MachineCardPublic]


@router.get("/board", response_model=BoardPublic, dependencies=[VIEWER])
def board(
    session: ReadSession, plant: PlantLayout, plan: CurrentPlan, clock: Clock, settings: Settings
) -> BoardPublic:
    """Every machine of the plant file or heard from, by id, with a stopped one's alarm and
    expected return; and the demo's speed."""
    now = clock()
    cards = machine_cards(session, plant, plan, now, settings.down_allowance_s)
    return BoardPublic.model_validate(
        {"as_of": now, "speed": settings.demo_speed, "machines": cards}
    )

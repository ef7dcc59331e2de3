"""The machine chart API's answer: downsampled channels with the machine's states and alarms."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class StateBand(BaseModel):
    """A span the machine was in one state, clipped to the chart's range."""

    model_config = ConfigDict(populate_by_name=True)

    state: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class AlarmMarker(BaseModel):
    """An alarm the machine raised within the chart's range."""

    at: datetime
    code: str
    message: str
    order_id: str | None
    operation: int | None


class TelemetryPublic(BaseModel):
    """One machine's channels from `from` to `to`: each a list of [bucket start (Unix
    seconds), mean of the bucket], oldest first, empty buckets left out."""

    model_config = ConfigDict(populate_by_name=True)

    machine: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    bucket_s: int
    channels: dict[str, list[tuple[float, float]]]
    states: list[StateBand]
    alarms: list[AlarmMarker]

"""`shopfloor migrate`: bring the tracker's database to the schema this version expects."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from tracker.adapters.migrations import upgrade
from tracker.settings import TrackerSettings


class MigrateSettings(BaseSettings):
    """The one setting migrating needs, read as the tracker reads it (no API key required)."""

    model_config = SettingsConfigDict(env_prefix="SHOPFLOOR_", extra="ignore")

    database_url: str = TrackerSettings.model_fields["database_url"].default


def migrate(settings: MigrateSettings) -> str:
    """Upgrade the database to the head revision; returns a line saying what was done."""
    before, head = upgrade(settings.database_url)
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    if before == head:
        return f"database {url} is up to date (revision {head})"
    return f"database {url} migrated from {before or 'empty'} to revision {head}"

"""What the launcher itself reads from SHOPFLOOR_* (the services read the rest themselves)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LauncherSettings(BaseSettings):
    """The log level and a supervisor key for `sim --tracker` and the demo."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPFLOOR_", env_nested_delimiter="__", extra="ignore"
    )

    log_level: str = "INFO"
    # `sim --tracker` places orders with it; the demo makes one up when it is unset
    api_key: SecretStr | None = None

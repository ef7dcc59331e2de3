"""Gateway settings, read from SHOPFLOOR_* environment variables at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopfloor.contract.topics import DEFAULT_TEMPLATE, EVENT, TELEMETRY, TopicTemplate
from shopfloor.mqtt import MqttSettings


class InfluxSettings(BaseModel):
    """Where telemetry goes: InfluxDB 2.x/3.x/1.8+ (v2 API), InfluxDB 1.x (v1 API) or SQLite."""

    sink: Literal["influx2", "influx1", "sqlite"] = "sqlite"
    url: str = "http://127.0.0.1:8086"
    # v2 write API
    token: SecretStr | None = None
    org: str = "shopfloor"
    bucket: str = "shopfloor"
    # v1 /write API
    database: str = "shopfloor"
    retention_policy: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    verify_tls: bool = True
    # embedded store for the demo
    sqlite_path: Path = Path("shopfloor-telemetry.db")


class GatewaySettings(BaseSettings):
    """Everything the gateway needs; a bad value fails at start and names the variable."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPFLOOR_", env_nested_delimiter="__", extra="ignore"
    )

    mqtt: MqttSettings = MqttSettings(client_id="shopfloor-gateway")
    influx: InfluxSettings = InfluxSettings()
    topic_template: str = DEFAULT_TEMPLATE
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    flush_interval_s: float = Field(default=1.0, gt=0, le=60)
    max_payload_bytes: int = Field(default=256 * 1024, ge=64)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "0.0.0.0"
    # batches the store cannot take go here (durably) and are replayed in order
    spool_dir: Path = Path("shopfloor-spool")
    spool_max_bytes: int = Field(default=1024**3, ge=64 * 1024)
    # batches written at the same time; more hides the store's latency
    write_concurrency: int = Field(default=2, ge=1, le=16)
    # several gateways with the same group share the load ($share/<group>/<filter>)
    share_group: str | None = Field(default=None, pattern=r"^[^/+#$\s]+$")

    @field_validator("topic_template")
    @classmethod
    def _template(cls, value: str) -> str:
        TopicTemplate(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> GatewaySettings:
        if not self.mqtt.client_id:
            self.mqtt.client_id = "shopfloor-gateway"
        if self.influx.sink == "influx2" and self.influx.token is None:
            raise ValueError(
                "SHOPFLOOR_INFLUX__TOKEN is required when SHOPFLOOR_INFLUX__SINK=influx2"
            )
        return self

    @property
    def template(self) -> TopicTemplate:
        return TopicTemplate(self.topic_template)

    def subscriptions(self) -> list[str]:
        """The MQTT topic filters the gateway subscribes to."""
        template = self.template
        return [template.subscription(TELEMETRY), template.subscription(EVENT)]

    def shared(self, filters: list[str]) -> list[str]:
        """Filters as subscribed: under `$share/<group>/` when a share group is set."""
        if not self.share_group:
            return filters
        return [f"$share/{self.share_group}/{f}" for f in filters]

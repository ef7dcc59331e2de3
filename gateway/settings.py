"""Gateway settings, read from SHOPFLOOR_* environment variables at start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shopfloor.contract.topics import DEFAULT_TEMPLATE, EVENT, TopicTemplate, minimal_filters
from shopfloor.mqtt import MqttSettings

from .decode import Decoder
from .fields import FieldType
from .mapping.plant import load_sources
from .mapping.spec import MachineSource
from .sparkplug.settings import SparkplugSettings
from .timestamps import Clock, Precision


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


def _json_text(value: Any) -> Any:
    """Parse a JSON environment value here, so that a bad one names its variable."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(f"must be JSON, not {value[:60]!r}") from None
    return value


JsonEnv = BeforeValidator(_json_text)


class TemplateSpec(BaseModel):
    """A topic template with options: a fixed kind, the separator joining `{name*}` levels."""

    pattern: str
    kind: Literal["telemetry", "event"] | None = None
    separator: str = "/"

    def template(self) -> TopicTemplate:
        """The template these options describe."""
        return TopicTemplate(self.pattern, self.kind, self.separator)


class DecodeSettings(BaseModel):
    """How topics and payloads are read (SHOPFLOOR_DECODE__*); see docs/mqtt.md."""

    # tried in order, first match wins; when empty, SHOPFLOOR_TOPIC_TEMPLATE is the one template
    topic_templates: Annotated[list[str | TemplateSpec], NoDecode, JsonEnv] = []
    # unit of epoch-number timestamps; `auto` judges it by the number's size
    ts_precision: Precision = "ms"
    # readings further ahead of / behind their arrival are rejected; 0 turns a check off
    max_ahead_s: float = Field(default=300, ge=0)
    max_behind_s: float = Field(default=0, ge=0)
    # field name -> type; every other field is a float (booleans as 1.0/0.0)
    field_types: Annotated[dict[str, FieldType], NoDecode, JsonEnv] = {}
    # joins the names of nested objects in `values`: {"spindle": {"temp": 1}} -> spindle_temp
    separator: str = Field(default="_", min_length=1, pattern=r"^[^\\\s,=]+$")

    @field_validator("topic_templates")
    @classmethod
    def _templates(cls, value: list[str | TemplateSpec]) -> list[str | TemplateSpec]:
        for spec in value:
            (TemplateSpec(pattern=spec) if isinstance(spec, str) else spec).template()
        return value

    def templates(self) -> list[TopicTemplate]:
        """The configured templates, in order (empty when none is configured here)."""
        specs = [TemplateSpec(pattern=s) if isinstance(s, str) else s for s in self.topic_templates]
        return [spec.template() for spec in specs]

    def clock(self) -> Clock:
        """How device timestamps are read and checked: one for the JSON, mapped and
        Sparkplug paths (Sparkplug times are milliseconds whatever the precision)."""
        return Clock(self.ts_precision, self.max_ahead_s, self.max_behind_s)

    def decoder(self, clock: Clock | None = None) -> Decoder:
        """The payload decoder these settings describe (reading times with `clock`)."""
        return Decoder(
            clock=clock or self.clock(), field_types=self.field_types, separator=self.separator
        )


class MappingSettings(BaseModel):
    """Machines whose tags map to events, declared in the environment (SHOPFLOOR_MAPPING__*)."""

    # JSON list of {"id", "counter_wrap", "source"}, as a plant file's machines; `id` may name
    # topic levels (`{line}`) so that one entry maps many machines
    machines: Annotated[list[MachineSource], NoDecode, JsonEnv] = []


class GatewaySettings(BaseSettings):
    """Everything the gateway needs; a bad value fails at start and names the variable."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPFLOOR_", env_nested_delimiter="__", extra="ignore"
    )

    mqtt: MqttSettings = MqttSettings(client_id="shopfloor-gateway")
    influx: InfluxSettings = InfluxSettings()
    topic_template: str = DEFAULT_TEMPLATE
    decode: DecodeSettings = DecodeSettings()
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
    # the Sparkplug B host application (SHOPFLOOR_SPARKPLUG__*); see docs/sparkplug.md
    sparkplug: SparkplugSettings = SparkplugSettings()
    # the plant file: its machines' `source:` (tags to events) and `counter_wrap`
    plant_file: Path | None = None
    mapping: MappingSettings = MappingSettings()
    # the site of mapped machines' events when their source names none (as the tracker's)
    site: str = Field(default="plant1", pattern=r"^[^/+#\s]{1,100}$")
    _sources: list[MachineSource] = PrivateAttr(default_factory=list)

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
        if self.sparkplug.enabled and not any(EVENT in t.kinds for t in self.templates):
            raise ValueError(
                "SHOPFLOOR_SPARKPLUG__ENABLED needs a topic template that carries events"
            )
        sources = load_sources(self.plant_file) if self.plant_file else []
        sources += self.mapping.machines
        seen: set[str] = set()
        for machine in sources:
            if machine.id in seen:
                raise ValueError(f"machine {machine.id!r} has two sources (plant file, mapping)")
            seen.add(machine.id)
        if sources and not any(EVENT in t.kinds for t in self.templates):
            raise ValueError("machine sources need a topic template that carries events")
        self._sources = sources
        return self

    @property
    def sources(self) -> list[MachineSource]:
        """Every declared machine source: the plant file's, then SHOPFLOOR_MAPPING__MACHINES."""
        return self._sources

    @property
    def template(self) -> TopicTemplate:
        """The first topic template (the one of SHOPFLOOR_TOPIC_TEMPLATE unless overridden)."""
        return self.templates[0]

    @property
    def templates(self) -> list[TopicTemplate]:
        """Topic templates in the order they are tried."""
        return self.decode.templates() or [TopicTemplate(self.topic_template)]

    def subscriptions(self) -> list[str]:
        """The MQTT topic filters the gateway subscribes to, none covering another: the topic
        templates' and the machine sources' (Sparkplug's are the host's own)."""
        filters = [f for t in self.templates for f in t.subscriptions()]
        filters += self.source_subscriptions()
        return minimal_filters(filters)

    def source_subscriptions(self) -> list[str]:
        """The filters of the machine sources' topics."""
        return [s.source.subscription() for s in self.sources if s.source.topic is not None]

    def subscribed(self) -> list[str]:
        """The filters as subscribed: the templates' under `$share/<group>/` when a share
        group is set; machine sources never, since each gateway keeps its machines' last
        values (states, counters) and must see every message of them."""
        if not self.share_group:
            return self.subscriptions()
        templates = minimal_filters([f for t in self.templates for f in t.subscriptions()])
        return self.shared(templates) + minimal_filters(self.source_subscriptions())

    def shared(self, filters: list[str]) -> list[str]:
        """Filters as subscribed: under `$share/<group>/` when a share group is set."""
        if not self.share_group:
            return filters
        return [f"$share/{self.share_group}/{f}" for f in filters]

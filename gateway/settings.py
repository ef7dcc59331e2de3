"""Gateway settings, read from SHOPFLOOR_* environment variables at start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
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

    model_config = ConfigDict(use_attribute_docstrings=True)

    sink: Literal["influx2", "influx1", "sqlite"] = "sqlite"
    """`influx2` (v2 API: InfluxDB 2.x/3.x/Cloud/1.8+), `influx1` (v1 `/write`), `sqlite`"""
    url: str = "http://127.0.0.1:8086"
    """InfluxDB URL"""
    # v2 write API
    token: SecretStr | None = None
    """v2 API token; required with `influx2`"""
    org: str = "shopfloor"
    """v2 API organisation"""
    bucket: str = "shopfloor"
    """v2 API bucket"""
    # v1 /write API
    database: str = "shopfloor"
    """v1 API database"""
    retention_policy: str | None = None
    """v1 API retention policy; none: the database's default"""
    username: str | None = None
    """v1 API user"""
    password: SecretStr | None = None
    """v1 API password"""
    timeout_s: float = Field(default=10.0, gt=0)
    """HTTP timeout of one write, seconds"""
    verify_tls: bool = True
    """check the server's TLS certificate"""
    # embedded store for the demo
    sqlite_path: Path = Path("shopfloor-telemetry.db")
    """embedded store"""


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

    model_config = ConfigDict(use_attribute_docstrings=True)

    # tried in order, first match wins; when empty, SHOPFLOOR_TOPIC_TEMPLATE is the one template
    topic_templates: Annotated[list[str | TemplateSpec], NoDecode, JsonEnv] = []
    """JSON list of templates tried in order; replaces `SHOPFLOOR_TOPIC_TEMPLATE` for the gateway"""
    # unit of epoch-number timestamps; `auto` judges it by the number's size
    ts_precision: Precision = "ms"
    """unit of epoch-number `ts`: `s`, `ms`, `us`, `ns` or `auto` (by size)"""
    # readings further ahead of / behind their arrival are rejected; 0 turns a check off
    max_ahead_s: float = Field(default=300, ge=0)
    """readings further ahead of their arrival are rejected"""
    max_behind_s: float = Field(default=0, ge=0)
    """readings further behind their arrival are rejected (e.g. 604800: a week); `0`: off"""
    # field name -> type; every other field is a float (booleans as 1.0/0.0)
    field_types: Annotated[dict[str, FieldType], NoDecode, JsonEnv] = {}
    """JSON `{"field": "float"|"int"|"bool"|"string"}`; `{}`: all floats"""
    # joins the names of nested objects in `values`: {"spindle": {"temp": 1}} -> spindle_temp
    separator: str = Field(default="_", min_length=1, pattern=r"^[^\\\s,=]+$")
    """joins nested value names"""

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

    model_config = ConfigDict(use_attribute_docstrings=True)

    # JSON list of {"id", "counter_wrap", "source"}, as a plant file's machines; `id` may name
    # topic levels (`{line}`) so that one entry maps many machines
    machines: Annotated[list[MachineSource], NoDecode, JsonEnv] = []
    """machine sources in the environment, JSON `[{"id", "counter_wrap", "source"}]`, as a plant
    file's machines; `id` may name topic levels (`"{line}"`), see [Machine
    sources](mqtt.md#machine-sources-tags-to-events)
    """


class GatewaySettings(BaseSettings):
    """Everything the gateway needs; a bad value fails at start and names the variable."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPFLOOR_",
        env_nested_delimiter="__",
        extra="ignore",
        use_attribute_docstrings=True,
    )

    mqtt: MqttSettings = MqttSettings(client_id="shopfloor-gateway")
    influx: InfluxSettings = InfluxSettings()
    topic_template: str = DEFAULT_TEMPLATE
    decode: DecodeSettings = DecodeSettings()
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    """a batch is written at this many points (1-100,000) ..."""
    flush_interval_s: float = Field(default=1.0, gt=0, le=60)
    """... or this age, seconds (and as soon as the stream pauses)"""
    max_payload_bytes: int = Field(default=256 * 1024, ge=64)
    """larger messages are rejected (`oversized`)"""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Prometheus `/metrics` port; none: off"""
    metrics_host: str = "0.0.0.0"
    """Prometheus listener address"""
    # batches the store cannot take go here (durably) and are replayed in order
    spool_dir: Path = Path("shopfloor-spool")
    """on-disk buffer for batches the store cannot take"""
    spool_max_bytes: int = Field(default=1024**3, ge=64 * 1024)
    """past this the gateway stops acknowledging; the broker holds the backlog (default 1 GiB)"""
    # batches written at the same time; more hides the store's latency
    write_concurrency: int = Field(default=2, ge=1, le=16)
    """batches written at the same time (1-16)"""
    # several gateways with the same group share the load ($share/<group>/<filter>)
    share_group: str | None = Field(default=None, pattern=r"^[^/+#$\s]+$")
    """several gateways share the load (`$share/<group>/...`), see [Scale-out](scale-out.md)"""
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

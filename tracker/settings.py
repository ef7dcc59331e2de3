"""Tracker settings, read from SHOPFLOOR_* environment variables at start."""
# size: the one Settings of the tracker (STYLE.md 6): each field with its documentation, which
# docs/configuration.md is generated from

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopfloor.contract.topics import DEFAULT_TEMPLATE, EVENT, TopicTemplate
from shopfloor.mqtt import MqttSettings
from tracker.auth.api_keys import ApiKeySpec, Role, hash_key
from tracker.domain.binding import Binding, OfflineRule
from tracker.domain.planning.model import Rule
from tracker.domain.schedule import AtRiskRule
from tracker.plant_logo import checked_logo
from tracker.webhook_signatures import signing_key

_PLACEHOLDERS = ("changeme", "change-me", "change_me", "placeholder", "example", "your-")


class WebhookSpec(BaseModel):
    """One alert webhook (an item of SHOPFLOOR_WEBHOOKS): its URL and its signing secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl
    # `whsec_` + base64 of 24-64 random bytes (Standard Webhooks); none: posts are unsigned
    secret: SecretStr | None = None

    @field_validator("secret")
    @classmethod
    def _standard(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            signing_key(value.get_secret_value())
        return value


class TelemetrySettings(BaseModel):
    """Where the machine charts read telemetry: the store the gateway writes to."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    # none: no charts (the API answers 503)
    kind: Literal["sqlite", "influx1", "influx2", "none"] = "none"
    """`sqlite`, `influx1` (InfluxQL on `/query`), `influx2` (Flux), `none` (the chart API answers
    503)
    """
    url: str = "http://127.0.0.1:8086"
    """InfluxDB URL"""
    database: str = "shopfloor"  # influx1
    """`influx1` database"""
    bucket: str = "shopfloor"  # influx2
    """`influx2` bucket"""
    org: str = "shopfloor"  # influx2
    """`influx2` organisation"""
    # the influx2 token, or the influx1 password (with `username`)
    token: SecretStr | None = None
    """`influx2` token (a read token is enough), or the `influx1` password"""
    username: str | None = None
    """`influx1` user"""
    sqlite_path: Path = Path("shopfloor-telemetry.db")
    """the gateway's `SHOPFLOOR_INFLUX__SQLITE_PATH`, opened read-only"""
    timeout_s: float = Field(default=10.0, gt=0)
    """HTTP timeout of one read, seconds"""
    # influx1: read whole minutes from the `telemetry_1m` rollup (its continuous query created,
    # see docs/mqtt.md, "Machine charts"): a week in ~0.1 s instead of ~1 s
    influx_rollup: bool = False
    """`influx1`: read whole-minute buckets from the `telemetry_1m` rollup (create its continuous
    query first, see [Machine charts](mqtt.md#mqtt-contract))
    """


class TrackerSettings(BaseSettings):
    """Everything the tracker needs; a bad value fails at start and names the variable."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPFLOOR_",
        env_nested_delimiter="__",
        extra="ignore",
        use_attribute_docstrings=True,
    )

    database_url: str = "sqlite:///shopfloor.db"
    """SQLAlchemy URL; PostgreSQL: `postgresql+psycopg://user:pass@host/db`"""
    mqtt: MqttSettings = MqttSettings(client_id="shopfloor-tracker")
    topic_template: str = DEFAULT_TEMPLATE
    """topic template, see [MQTT contract](mqtt.md#mqtt-contract); the tracker's must carry events
    and name `{machine}`
    """
    site: str = "plant1"
    """site segment of the alert and dispatch topics; the gateway's site for the events of machine
    sources that name none
    """
    api_host: str = "127.0.0.1"
    """HTTP listener address"""
    api_port: int = Field(default=8000, ge=1, le=65535)
    """HTTP listener port"""
    # the admin key, sent as `X-API-Key`; no default on purpose
    api_key: SecretStr
    """the admin's key (header `X-API-Key`), 16+ characters, not a placeholder"""
    # more keys with roles, only their SHA-256 stored: [{"name", "role", "key_sha256"}]
    api_keys: list[ApiKeySpec] = Field(default_factory=list)
    """more keys, as JSON `[{"name": "ann", "role": "supervisor", "key_sha256": "<hex>"}]`; roles
    `viewer`, `operator`, `supervisor`, `admin`, and for any key an optional `"machines": [...]` it
    may start and end jobs on; only the SHA-256 of each key (`shopfloor hash-key`), see
    [Access](api.md#access-keys-and-roles); compose takes it from `TRACKER_KEY_HASHES` in `.env`
    """
    # customers' progress polling: how long a client may reuse an answer, and the rate each
    # token and each client address may poll at (token buckets: per second, and burst)
    progress_max_age_s: int = Field(default=5, ge=0, le=3600)
    """`Cache-Control: private, max-age=` of a customer's progress answer"""
    progress_rate_per_token: float = Field(default=1.0, gt=0)
    """progress requests per second each token may make (429 past it)"""
    progress_burst_per_token: int = Field(default=10, ge=1)
    """... and its burst"""
    progress_rate_per_ip: float = Field(default=10.0, gt=0)
    """the same per client address"""
    progress_burst_per_ip: int = Field(default=100, ge=1)
    """... and its burst"""
    # failed API-key attempts per client address (a token bucket: per minute, and burst);
    # past it every request with a key from that address answers 429, a correct key too
    api_key_failures_per_min: float = Field(default=10.0, gt=0)
    """failed API keys a client address may send per minute once its burst is spent (429 past it,
    see [Access](api.md#access-keys-and-roles))
    """
    api_key_failures_burst: int = Field(default=20, ge=1)
    """... and its burst"""
    # request bodies larger than this are refused with 413 before they are parsed
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """larger request bodies answer 413 before they are read (default 1 MiB)"""
    import_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    """the same for `/api/v1/orders/import` (default 5 MiB)"""
    check_interval_s: float = Field(default=30.0, gt=0)
    """periodic re-check of every open order (and replan)"""
    # an order is at risk when its ETA is within this many seconds of its due date...
    at_risk_slack_s: float = Field(default=3600.0, ge=0)
    """at risk: ETA within this of the due date (see [Late-order
    alerts](alerts.md#late-order-alerts))
    """
    # ...or its operation's observed cycle time exceeds the planned one by more than this ratio
    behind_plan_ratio: float = Field(default=0.2, ge=0)
    """at risk: cycle time this much over plan"""
    # ...and back on track only once it has this much more than the slack (no flapping)
    recovery_margin_s: float = Field(default=600.0, ge=0)
    """an order at risk or late is back on track only with this much more than the slack (no
    flapping)
    """
    # `rules` (the three above, machine down) or `p_on_time` (the forecast's P(on time))
    at_risk_rule: AtRiskRule = AtRiskRule.RULES
    """what makes an open order at risk: `rules` (ETA within the slack, cycle over plan, machine
    down) or `p_on_time` (its [P(on time)](foresight.md#the-p_on_time-at-risk-rule) below
    `SHOPFLOOR_FORESIGHT_AT_RISK_BELOW`, the rules while it has no forecast); late is the ETA's
    either way
    """
    # alert webhooks (Slack/Teams incoming webhooks or any JSON receiver), a JSON list; unsigned
    webhook_urls: list[AnyHttpUrl] = Field(default_factory=list)
    """JSON list of alert webhook URLs (Slack/Teams-compatible body), unsigned"""
    # more, each with its own signing secret: [{"url": ..., "secret": "whsec_..."}]
    webhooks: list[WebhookSpec] = Field(default_factory=list)
    """more alert webhooks, each with its signing secret: JSON `[{"url": "...", "secret":
    "whsec_..."}]` (see [Signed webhooks](alerts.md#signed-webhooks)); a URL may be in only one of
    the two lists
    """
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    """per-POST timeout"""
    webhook_backoff_max_s: float = Field(default=300.0, gt=0)
    """longest wait between retries"""
    # YAML: machines, work centers and product templates (see examples/plant.yaml)
    plant_file: Path | None = None
    """YAML plant file: machines, work centers, product templates (see [Plant
    file](orders.md#plant-file)); the gateway reads its machines' `source:` and `counter_wrap`
    ([Machine sources](mqtt.md#machine-sources-tags-to-events))
    """
    # planning: which waiting operation a free machine takes next (edd, release, spt, cr, atc)
    dispatch_rule: Rule = Rule.EDD
    """planning rule: `edd`, `release`, `spt`, `cr`, `atc` (see
    [Planning](planning.md#planning-capacity-eta-and-quotes))
    """
    # a DOWN or OFFLINE machine is planned as back this long from now
    down_allowance_s: float = Field(default=1800.0, ge=0)
    """a `DOWN`/`OFFLINE` machine is planned as back this long from now"""
    # plant seconds per real second: `shopfloor demo --speed S` sets S, and the board says so
    demo_speed: float = Field(default=1.0, gt=0, le=100000)
    """plant seconds per real second; `shopfloor demo --speed S` sets it, and the board shows a
    banner when it is not 1 ("Demo at 60x: 1 s here is 1 min in the plant")
    """
    # a burst of events gives one replan this long after it goes quiet
    replan_debounce_s: float = Field(default=1.0, gt=0, le=300)
    """a burst of events gives one replan this long after it goes quiet (10 s at most)"""
    # CP-SAT time limit to improve each plan (pip install 'shopfloor[optimize]'); 0: off
    optimise_s: float = Field(default=0.0, ge=0, le=600)
    """CP-SAT time limit to improve each plan; needs `pip install 'shopfloor[optimize]'`; `0`: off
    """
    foresight_samples: int = Field(default=300, ge=0, le=10_000)
    """Monte Carlo samples per [P(on time)](foresight.md) forecast after each plan; `0`: off"""
    foresight_mtbf_s: float = Field(default=8 * 3600.0, gt=0, le=10 * 365 * 86400.0)
    """prior mean running time between a machine's failures, for P(on time), where the plant file
    gives no `reliability: {mtbf_h}` for it
    """
    foresight_mttr_s: float = Field(default=1800.0, gt=0, le=30 * 86400.0)
    """prior mean repair time of a machine, for P(on time), where the plant file gives no
    `reliability: {mttr_min}` for it
    """
    foresight_duration_cv: float = Field(default=0.05, ge=0, le=2)
    """spread of an operation's time around its plan (standard deviation over the mean), where the
    plant file gives no `reliability: {duration_cv}` for the machine
    """
    foresight_queue_cv: float = Field(default=0.6, ge=0, le=3)
    """how much an order's waits for its planned starts may stretch (coefficient of variation of
    a lognormal factor, never below 1): the plan moves as orders arrive and jump the queue; `0`:
    the plan's starts are taken as sure (see [Foresight](foresight.md#how-it-is-computed))
    """
    foresight_at_risk_below: float = Field(default=0.3, ge=0, le=1)
    """an order is at risk when its P(on time) is below this: in `POST /api/v1/what-if`, and in its
    status with `SHOPFLOOR_AT_RISK_RULE=p_on_time`
    """
    foresight_back_on_track_above: float = Field(default=0.7, ge=0, le=1)
    """with `SHOPFLOOR_AT_RISK_RULE=p_on_time`, an order at risk or late is back on track only once
    its P(on time) is this or more (no flapping); at least `SHOPFLOOR_FORESIGHT_AT_RISK_BELOW`
    """
    # each machine's dispatch list from the plan, retained on shopfloor/{site}/dispatch/{machine},
    # at most this many jobs each (about 250 bytes a job)
    publish_dispatch: bool = True
    """publish each machine's dispatch list after a replan that changed it (see [Dispatch
    lists](planning.md#dispatch-lists))
    """
    dispatch_max_jobs: int = Field(default=1000, ge=1, le=4000)
    """at most this many jobs per dispatch list, the first planned (1-4000; ~250 bytes a job)"""
    # a machine that publishes nothing for this long becomes OFFLINE...
    offline_after_s: float = Field(default=300.0, gt=0)
    """a machine that publishes no event for this long becomes `OFFLINE` (checked periodically),
    unless its offline rule is `bridge`
    """
    # ...unless its rule is `bridge` (OFFLINE only from an OFFLINE state event, its bridge's
    # will): the default of machines whose plant file entry (or work center) says nothing
    offline_rule: OfflineRule = OfflineRule.SILENCE
    """offline rule of machines the plant file gives none: `silence` (the rule above) or `bridge`
    (`OFFLINE` only from an `OFFLINE` state event), see [Binding jobs to
    machines](orders.md#binding-jobs-to-machines)
    """
    # who binds jobs to machines the plant file says nothing of: their events (`event`), their
    # dispatch list (`dispatch`) or people through the API (`operator`)
    job_binding: Binding = Binding.EVENT
    """who binds jobs to machines the plant file says nothing of: `event`, `dispatch` or `operator`
    """
    # a job bound to a machine takes its unassigned cycles of this long before the binding
    unassigned_window_s: float = Field(default=300.0, ge=0, le=7 * 86400)
    """a job bound to a machine takes its unassigned cycles from this long before the binding"""
    # a stop (DOWN, or IDLE with a job bound) is a downtime record once it lasted longer
    downtime_min_s: float = Field(default=60.0, ge=0, le=86400)
    """a stop (a machine `DOWN`, or `IDLE` with a job bound) lasting longer than this is a downtime
    record, see [Downtime and its reasons](oee.md#downtime-and-its-reasons)
    """
    # PLC part counters wrap to 0 at this value (65536 for 16 bits); None: a drop is a reset.
    # `counter_wraps` overrides it per machine, as JSON: {"saw-1": 65536}
    counter_wrap: int | None = Field(default=None, gt=0)
    """value at which PLC part counters wrap to 0 (65536 for 16 bits)"""
    counter_wraps: dict[str, Annotated[int, Field(gt=0)]] = {}
    """per machine as JSON `{"saw-1": 65536}`, which beats the plant file's `counter_wrap`, which
    beats `SHOPFLOOR_COUNTER_WRAP`
    """
    # an event that fails to apply other than on the database is tried this often, then parked
    apply_attempts: int = Field(default=3, ge=1, le=100)
    """an event that fails to apply for a reason other than the database is tried this often
    (1-100), then parked (see [Tracker: bad events](mqtt.md#tracker-rejected-and-parked-events))
    """
    # /readyz fails while the oldest event received and not yet settled is older than this
    stuck_after_s: float = Field(default=60.0, gt=0)
    """`/readyz` answers 503 while the oldest event received and not yet acknowledged is older than
    this
    """
    leadership_timeout_s: float = Field(default=10.0, ge=1, le=300)
    """several trackers on one PostgreSQL database: the leader's duties (periodic check, dispatch
    lists, alert delivery, optimiser) move to a standby within this many seconds (1-300) of the
    leader's process, host or database connection being lost (see
    [High availability](high-availability.md))
    """
    tracker_share_group: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[^/+#$\s]+$"
    )
    """several trackers with the same group share the machine events (`$share/<group>/...`),
    each event applied by one of them; unset: every tracker gets every event
    """
    public_url: AnyHttpUrl | None = None
    """the tracker's address as customers reach it (`https://track.example.com`): tracking links
    in [customer notifications](customer-notifications.md) point there; unset:
    `http://<SHOPFLOOR_API_HOST>:<SHOPFLOOR_API_PORT>`
    """
    customer_notify_min_interval_s: float = Field(default=4 * 3600.0, ge=0, le=30 * 86400.0)
    """an order's customers hear of its promise moving at most once per this many seconds (a
    change within it waits for its end, and goes out only if it still stands)
    """
    customer_link_ttl_s: float = Field(default=30 * 86400.0, ge=60, le=366 * 86400.0)
    """how long the tracking link in a notification works (the order's token rotated or revoked
    ends it sooner)
    """
    smtp_host: str | None = Field(default=None, min_length=1, max_length=253)
    """SMTP server for customers' email notifications; unset: no emails (webhooks still go)"""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    """its port (587 for `starttls`, 465 for `ssl`)"""
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    """`starttls` (upgrade a plain connection), `ssl` (TLS from the start) or `none` (a local
    relay only)
    """
    smtp_username: str | None = Field(default=None, min_length=1, max_length=320)
    """user to sign in as; unset: no sign-in"""
    smtp_password: SecretStr | None = None
    """its password (no default; never logged)"""
    smtp_from: str | None = Field(default=None, min_length=3, max_length=320)
    """the notifications' `From:` address, e.g. `Plant <orders@example.com>` (needed with
    `SHOPFLOOR_SMTP_HOST`)
    """
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """timeout of one SMTP exchange"""
    # the machine charts' telemetry store
    telemetry: TelemetrySettings = TelemetrySettings()
    plant_name: str | None = Field(default=None, min_length=1, max_length=100)
    """the plant's name on the customer page (public: any tracking link shows it)"""
    plant_logo: Annotated[Path | None, AfterValidator(checked_logo)] = None
    """its logo (`.png`, `.jpg`, `.webp`, `.svg`, 256 KiB at most), public at `/plant/logo`"""

    @field_validator("api_key")
    @classmethod
    def _strong_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if len(key) < 16 or any(word in key.lower() for word in _PLACEHOLDERS):
            raise ValueError(
                "SHOPFLOOR_API_KEY must be at least 16 characters and not a placeholder"
            )
        return value

    def all_api_keys(self) -> list[ApiKeySpec]:
        """SHOPFLOOR_API_KEY as the admin's key, then SHOPFLOOR_API_KEYS."""
        admin = hash_key(self.api_key.get_secret_value())
        return [ApiKeySpec(name="admin", role=Role.ADMIN, key_sha256=admin), *self.api_keys]

    def webhook_keys(self) -> dict[str, bytes | None]:
        """Every webhook URL (SHOPFLOOR_WEBHOOK_URLS, then SHOPFLOOR_WEBHOOKS), each with its
        signing key (None: unsigned)."""
        keys: dict[str, bytes | None] = {str(url): None for url in self.webhook_urls}
        for spec in self.webhooks:
            secret = spec.secret
            keys[str(spec.url)] = signing_key(secret.get_secret_value()) if secret else None
        return keys

    @model_validator(mode="after")
    def _webhooks_once(self) -> TrackerSettings:
        urls = [str(url) for url in self.webhook_urls] + [str(s.url) for s in self.webhooks]
        repeated = sorted({url for url in urls if urls.count(url) > 1})
        if repeated:
            raise ValueError(
                f"webhook URLs given twice (SHOPFLOOR_WEBHOOK_URLS, SHOPFLOOR_WEBHOOKS): "
                f"{len(repeated)} of them"
            )
        return self

    @model_validator(mode="after")
    def _hysteresis(self) -> TrackerSettings:
        if self.foresight_back_on_track_above < self.foresight_at_risk_below:
            raise ValueError(
                f"SHOPFLOOR_FORESIGHT_BACK_ON_TRACK_ABOVE ({self.foresight_back_on_track_above}) "
                f"must be at least SHOPFLOOR_FORESIGHT_AT_RISK_BELOW "
                f"({self.foresight_at_risk_below}): an order back on track would be at risk"
            )
        return self

    @model_validator(mode="after")
    def _smtp_sender(self) -> TrackerSettings:
        if self.smtp_host is not None and self.smtp_from is None:
            raise ValueError("SHOPFLOOR_SMTP_HOST needs SHOPFLOOR_SMTP_FROM (the From: address)")
        return self

    @field_validator("topic_template")
    @classmethod
    def _template(cls, value: str) -> str:
        template = TopicTemplate(value)
        if EVENT not in template.kinds or "{machine}" not in template.segments:
            raise ValueError(f"topic template {value!r} must carry events and name the {{machine}}")
        return value

    def model_post_init(self, __context: object) -> None:
        if not self.mqtt.client_id:
            self.mqtt.client_id = "shopfloor-tracker"

    @property
    def template(self) -> TopicTemplate:
        return TopicTemplate(self.topic_template)

"""The committed corpus of bad messages (tests/data/bad_messages.jsonl) and its settings."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from gateway.settings import DecodeSettings, TemplateSpec

CORPUS = Path(__file__).parent / "data" / "bad_messages.jsonl"
REASONS = (
    "invalid_json",
    "schema",
    "bad_timestamp",
    "ts_out_of_range",
    "not_finite",
    "oversized",
    "unknown_topic",
    "type",
)
# the corpus is written for these settings: readings topics, PackML-style one-value topics
MAX_PAYLOAD_BYTES = 1024
READINGS_TOPIC = "shopfloor/p1/l1/m1/telemetry"
EVENT_TOPIC = "shopfloor/p1/l1/m1/event"
PACKML_PREFIX = "packml/p1/a1/l1/"


def decode_settings() -> DecodeSettings:
    """Two templates, a 7-day window, and declared types for a few fields."""
    return DecodeSettings(
        topic_templates=[
            "shopfloor/{site}/{line}/{machine}/{kind}",
            TemplateSpec(pattern="packml/{site}/{area}/{line}/{field*}"),
        ],
        max_ahead_s=300,
        max_behind_s=7 * 86_400,
        field_types={
            "count": "int",
            "Status/StateCurrent": "string",
            "Admin/ProdProcessedCount": "int",
            "Status/Running": "bool",
        },
    )


@dataclass(frozen=True)
class BadMessage:
    """One corpus entry: where it is published, what it carries, why it must be rejected."""

    topic: str
    payload: bytes
    reason: str
    note: str


def load_corpus() -> list[BadMessage]:
    """Every entry of the corpus, in file order."""
    out = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "payload_b64" in row:
            payload = base64.b64decode(row["payload_b64"])
        else:
            payload = row["payload"].encode("utf-8", "surrogatepass")
        out.append(BadMessage(row["topic"], payload, row["reason"], row["note"]))
    return out

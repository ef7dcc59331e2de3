"""The mapped-tags case of `shopfloor bench gateway`: one value per topic, mapped to events."""

from __future__ import annotations

import json

from .broker import publish_backlog
from .cases import GatewayBench
from .report import Case

# a PackML-style cumulative counter: it advances a tenth of a part a message, so one message in
# ten makes a cycle event (published to the broker, acknowledged, then stored by the gateway)
_STEP = 0.1


def _topic(site: str, machine: str) -> str:
    return f"{site}/Area/{machine}/v"


def _payloads(messages: int, _per_message: int, end_ms: int) -> list[str]:
    base_ms = end_ms - messages + 1
    return [f'{{"value": {i * _STEP:.1f}, "ts": {base_ms + i}}}' for i in range(messages)]


def mapped_case(bench: GatewayBench, messages: int) -> Case:
    """The real gateway draining a backlog of one-value topics whose tag is a mapped counter."""
    site = bench._site("mapped")
    source = {"topic": f"{site}/Area/{{line}}/{{tag*}}", "good": "v"}
    env = bench.gateway_env(
        site,
        SHOPFLOOR_SITE=site,
        SHOPFLOOR_MAPPING__MACHINES=json.dumps([{"id": "{line}", "source": source}]),
    )
    bench.open_session(env, site)
    series = publish_backlog(
        bench.broker, site, messages, 1, bench.end_ms, bench.workdir, "m", _topic, _payloads
    )
    seconds, peak_rss = bench.drain(env, site, series)
    events = messages // round(1 / _STEP)
    note = f"a counter tag: ~{events:,} cycle events published and stored too"
    return Case(
        "gateway: mapped tags (value per topic)", messages, messages, seconds, note, peak_rss
    )

"""What the gateway bench measured: one row per case, the table, the targets and the JSON line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

from .running import figure

MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One timed drain: `readings` stored (or received) in `seconds`."""

    name: str
    messages: int
    readings: int
    seconds: float
    note: str = ""
    peak_rss: int = 0  # bytes, for gateway runs

    @property
    def rps(self) -> float:
        """Readings per second."""
        return self.readings / self.seconds if self.seconds > 0 else 0.0


def table(cases: list[Case]) -> str:
    """The cases as an aligned text table."""
    head = f"{'case':<42} {'messages':>10} {'readings':>10} {'seconds':>8} {'readings/s':>11}  note"
    rows = [head, "-" * len(head)]
    for c in cases:
        notes = [f"peak RSS {c.peak_rss / MB:.0f} MB"] if c.peak_rss else []
        notes += [c.note] if c.note else []
        rows.append(
            f"{c.name:<42} {c.messages:>10,} {c.readings:>10,} {c.seconds:>8.2f} "
            f"{c.rps:>11,.0f}  {'; '.join(notes)}"
        )
    return "\n".join(rows)


def summary(by_key: dict[str, Case], extra: dict[str, object]) -> dict[str, object]:
    """The JSON object: rates, ratios and peak RSS (MB) of the gateway runs."""
    gateway = by_key["gateway"]
    peaks = [c.peak_rss for k, c in by_key.items() if k.startswith("gateway") and k != "backlog"]
    out: dict[str, object] = {"bench": "gateway"}
    for key in ("ceiling", "naive", "gateway", "gateway_live", "gateway_batched"):
        out[f"{key}_rps"] = round(by_key[key].rps)
    out["gateway_vs_naive"] = round(gateway.rps / by_key["naive"].rps, 1)
    out["gateway_vs_ceiling"] = round(gateway.rps / by_key["ceiling"].rps, 3)
    out["peak_rss_mb"] = round(max(peaks) / MB, 1)
    if "backlog" in by_key:
        out["backlog_check_messages"] = by_key["backlog"].messages
        out["backlog_check_rps"] = round(by_key["backlog"].rps)
        out["backlog_check_peak_rss_mb"] = round(by_key["backlog"].peak_rss / MB, 1)
    out.update(extra)
    return out


def targets(result: dict[str, object]) -> str:
    """The issue's targets for this 2-core machine, each marked met or missed."""

    num = partial(figure, result)

    checks = [
        ("gateway >= 20x naive bridge", num("gateway_vs_naive") >= 20, "gateway_vs_naive"),
        ("gateway >= 30% of ceiling", num("gateway_vs_ceiling") >= 0.30, "gateway_vs_ceiling"),
        (
            "batched >= 100,000 readings/s",
            num("gateway_batched_rps") >= 100_000,
            "gateway_batched_rps",
        ),
        ("peak RSS < 300 MB", num("peak_rss_mb") < 300, "peak_rss_mb"),
    ]
    if "mapped_rps" in result:
        ok = num("mapped_rps") >= 0.7 * num("gateway_rps")
        checks.append(("mapped tags >= 70% of the JSON path", ok, "mapped_rps"))
    if "backlog_check_peak_rss_mb" in result:
        ok = num("backlog_check_peak_rss_mb") < 300
        checks.append(("peak RSS < 300 MB with the big backlog", ok, "backlog_check_peak_rss_mb"))
    return "\n".join(
        f"target {name:<40} {'met' if ok else 'MISSED':<7} ({key} = {result[key]})"
        for name, ok, key in checks
    )


def json_line(result: dict[str, object]) -> str:
    """The machine-readable last line."""
    return json.dumps(result)

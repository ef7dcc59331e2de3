"""What the tracker bench measured: the table, the ratios, the targets and the JSON object."""

from __future__ import annotations

from functools import partial

from .running import figure
from .tracker_cases import Row

DATABASES = ("sqlite", "postgres")


def table(rows: list[Row]) -> str:
    """The rows as an aligned text table."""
    head = f"{'database':<9} {'case':<38} {'count':>8} {'seconds':>8} {'per s':>9}  note"
    out = [head, "-" * len(head)]
    for row in rows:
        r = row.rate
        out.append(
            f"{row.db:<9} {r.name:<38} {r.count:>8,} {r.seconds:>8.3f} {r.per_s:>9,.0f}  {r.note}"
        )
    return "\n".join(out)


def summary(rows: list[Row], peak_rss: int, extra: dict[str, object]) -> dict[str, object]:
    """The JSON object: the issues' figures first, then baselines and ratios."""
    by = {(row.db, row.key): row.rate for row in rows}
    mapping = by[("mapping", "events")].per_s
    out: dict[str, object] = {"bench": "tracker"}
    for db in DATABASES:
        out[f"events_per_s_{db}"] = round(by[(db, "events")].per_s)
    out["evaluate_10k_s"] = round(max(by[(db, "evaluate")].seconds for db in DATABASES), 3)
    out["peak_rss_mb"] = round(peak_rss / (1024 * 1024), 1)
    out["oee_100_machines_week_s"] = round(max(by[(db, "oee")].seconds for db in DATABASES), 3)
    out["events_per_s_mapping_only"] = round(mapping)
    for db in DATABASES:
        events = by[(db, "events")].per_s
        out[f"floor_commits_per_s_{db}"] = round(by[(db, "floor")].per_s)
        out[f"tracker_vs_mapping_{db}"] = round(events / mapping, 4)
        out[f"tracker_vs_floor_{db}"] = round(events / by[(db, "floor")].per_s, 3)
        out[f"evaluate_10k_s_{db}"] = round(by[(db, "evaluate")].seconds, 3)
        out[f"evaluate_one_select_s_{db}"] = round(by[(db, "select")].seconds, 3)
        out[f"events_applied_{db}"] = by[(db, "events")].count
        out[f"oee_100_machines_week_s_{db}"] = round(by[(db, "oee")].seconds, 3)
    out.update(extra)
    return out


def ratios(result: dict[str, object]) -> str:
    """The side-by-side comparisons in words."""
    lines = []
    for db in DATABASES:
        lines.append(
            f"{db}: tracker / mapping only = {result[f'tracker_vs_mapping_{db}']}, "
            f"tracker / bare INSERT + COMMIT = {result[f'tracker_vs_floor_{db}']}"
        )
    return "\n".join(lines)


def targets(result: dict[str, object]) -> str:
    """The issue's targets for this 2-core machine, each marked met or missed."""

    num = partial(figure, result)

    checks = [
        (
            "events persisted on SQLite >= 5,000/s",
            num("events_per_s_sqlite") >= 5_000,
            "events_per_s_sqlite",
        ),
        (
            "events persisted on PostgreSQL >= 5,000/s",
            num("events_per_s_postgres") >= 5_000,
            "events_per_s_postgres",
        ),
        ("evaluation of 10,000 orders < 0.5 s", num("evaluate_10k_s") < 0.5, "evaluate_10k_s"),
        ("peak RSS < 500 MB", num("peak_rss_mb") < 500, "peak_rss_mb"),
        (
            "OEE of 100 machines over a week < 0.5 s",
            num("oee_100_machines_week_s") < 0.5,
            "oee_100_machines_week_s",
        ),
    ]
    return "\n".join(
        f"target {name:<42} {'met' if ok else 'MISSED':<7} ({key} = {result[key]})"
        for name, ok, key in checks
    )

"""What the API bench measured: the table, the JSON object and the targets."""

from __future__ import annotations

from .api_load import Load

NO_ETAG_NOTE = (
    "the server sent no ETag on the progress endpoint: no 304 case (measured automatically "
    "once it does)"
)


def table(loads: list[Load]) -> str:
    """The wrk runs as an aligned text table."""
    head = (
        f"{'case':<34} {'answered':>9} {'seconds':>7} {'per s':>7} {'p50 ms':>7} "
        f"{'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} {'server':>6} {'wrk':>5} {'per core':>8}  note"
    )
    out = [head, "-" * len(head)]
    for r in loads:
        note = r.note
        if r.others:
            others = ", ".join(f"{c:,} x {s}" for s, c in sorted(r.others.items()))
            note = f"{note}; also {others}" if note else f"also {others}"
        if r.errors:
            errors = ", ".join(f"{k} {v:,}" for k, v in sorted(r.errors.items()))
            note = f"{note}; errors: {errors}" if note else f"errors: {errors}"
        out.append(
            f"{r.name:<34} {r.answered:>9,} {r.seconds:>7.1f} {r.rps:>7,.0f} {r.p50_ms:>7.1f} "
            f"{r.p90_ms:>7.1f} {r.p99_ms:>7.1f} {r.max_ms:>7.1f} {r.server_cpu:>6.2f} "
            f"{r.client_cpu:>5.2f} {r.per_core:>8,.0f}  {note}"
        )
    out.append(
        "server, wrk: CPU cores each process used on average; per core: answers per second of "
        "server CPU (steadier than per s when other work shares the cores)"
    )
    return "\n".join(out)


def summary(
    ceiling: Load,
    progress: Load,
    not_modified: Load | None,
    paced: Load,
    extra: dict[str, object],
) -> dict[str, object]:
    """The JSON object: the issue's figures first, then the detail."""
    out: dict[str, object] = {
        "bench": "api",
        "ceiling_rps": round(ceiling.rps),
        "progress_rps": round(progress.rps),
        "progress_p50_ms": round(progress.p50_ms, 2),
        "progress_p99_ms": round(progress.p99_ms, 2),
        "not_modified_rps": round(not_modified.rps) if not_modified else None,
        "progress_vs_ceiling": round(progress.rps / ceiling.rps, 3) if ceiling.rps else 0.0,
        "not_modified_vs_ceiling": (
            round(not_modified.rps / ceiling.rps, 3) if not_modified and ceiling.rps else None
        ),
    }
    if not_modified is None:
        out["note"] = NO_ETAG_NOTE
    else:
        out["not_modified_p99_ms"] = round(not_modified.p99_ms, 2)
        out["not_modified_other_statuses"] = _keyed(not_modified.others)
    out["paced_progress_rps"] = round(paced.rps)
    out["paced_progress_p50_ms"] = round(paced.p50_ms, 2)
    out["paced_progress_p99_ms"] = round(paced.p99_ms, 2)
    out["progress_per_server_core"] = round(progress.per_core)
    out["ceiling_per_server_core"] = round(ceiling.per_core)
    out["progress_vs_ceiling_per_core"] = (
        round(progress.per_core / ceiling.per_core, 3) if ceiling.per_core else 0.0
    )
    out["ceiling_p50_ms"] = round(ceiling.p50_ms, 2)
    out["ceiling_p99_ms"] = round(ceiling.p99_ms, 2)
    out["progress_other_statuses"] = _keyed(progress.others)
    out["progress_server_cores"] = round(progress.server_cpu, 2)
    out["progress_wrk_cores"] = round(progress.client_cpu, 2)
    out.update(extra)
    return out


def _keyed(counts: dict[int, int]) -> dict[str, int]:
    return {str(status): count for status, count in sorted(counts.items())}


def targets(result: dict[str, object]) -> str:
    """The issue's targets for this 2-core machine, each marked met or missed."""

    def num(key: str) -> float | None:
        value = result[key]
        return float(value) if isinstance(value, int | float) else None

    ratio, p99, nm, paced_p99 = (
        num("progress_vs_ceiling"),
        num("progress_p99_ms"),
        num("not_modified_vs_ceiling"),
        num("paced_progress_p99_ms"),
    )
    checks = [
        (
            "progress >= 50% of the ceiling's requests/s",
            None if ratio is None else ratio >= 0.5,
            "progress_vs_ceiling",
        ),
        ("progress p99 < 50 ms", None if p99 is None else p99 < 50, "progress_p99_ms"),
        (
            "(the same, pollers pausing: half the load)",
            None if paced_p99 is None else paced_p99 < 50,
            "paced_progress_p99_ms",
        ),
        (
            "304s >= 80% of the ceiling's requests/s",
            None if nm is None else nm >= 0.8,
            "not_modified_vs_ceiling",
        ),
    ]
    return "\n".join(
        f"target {name:<44} {_verdict(ok):<7} ({key} = {result[key]})" for name, ok, key in checks
    )


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "met" if ok else "MISSED"

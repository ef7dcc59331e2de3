"""The foresight bench's tables and its JSON summary, from the twin's order traces."""

from __future__ import annotations

from typing import Any

from launcher.twin.traces import OrderTrace

from .foresight_metrics import (
    FRACTIONS,
    RuleFigures,
    baseline_warned,
    baseline_why,
    calibration,
    calibration_gap,
    eta_errors,
    foresight_flip_flops,
    foresight_rule,
    quantile,
    rule_figures,
    tracker_flip_flops,
    tracker_warned,
    tracker_why,
)


def _row(name: str, f: RuleFigures) -> str:
    alarms = ", ".join(f"{why} {n}" for why, n in f.false_alarms.most_common()) or "none"
    return (
        f"  {name:<22} recall {f.recall:5.2f}  lead {f.lead_share_median:5.2f}  "
        f"precision {f.precision:5.2f}  warned {f.warned:4d}  false alarms: {alarms}"
    )


def report(
    traces: list[OrderTrace], threshold: float, clear: float, at_risk_rule: str = "rules"
) -> dict[str, Any]:
    """Print the tables; returns the bench's JSON fields (the tracker's under `at_risk_rule`)."""
    late = sum(t.late for t in traces)
    rules = rule_figures(traces, tracker_warned, tracker_why)
    base = rule_figures(traces, baseline_warned, baseline_why)
    fore = rule_figures(traces, foresight_rule(threshold, clear), lambda _t: "P(on time) low")
    print(f"orders {len(traces)}, late {late}; lead = (due - first warning) / (due - release)")
    print(_row(f"tracker ({at_risk_rule})", rules))
    print(_row("static plan (baseline)", base))
    print(_row(f"P(on time) < {threshold:.2f}", fore))
    print("ETA error / elapsed time, median and p90, at 25/50/75% of each order's elapsed time:")
    tracker_eta: dict[float, list[float]] = {}
    for name, eta in (
        ("tracker ETA", lambda look: look.eta),
        ("foresight P50", lambda look: look.p50),
    ):
        cells = []
        for fraction in FRACTIONS:
            errors = eta_errors(traces, fraction, eta)
            if name == "tracker ETA":
                tracker_eta[fraction] = errors
            cells.append(f"{quantile(errors, 0.5):6.3f} / {quantile(errors, 0.9):6.3f}")
        print(f"  {name:<14} " + "   ".join(cells))
    flips = sum(tracker_flip_flops(t) for t in traces)
    fore_flips = sum(foresight_flip_flops(t, threshold, clear) for t in traces)
    print(
        f"flip-flops (warned, cleared, warned again): tracker {flips}, "
        f"P(on time) rule {fore_flips} of {len(traces)} orders"
    )
    rows = calibration(traces)
    print(
        "calibration of P(on time) (said at 25/50/75% of elapsed time): decile, looks, p, on time"
    )
    for decile, n, p, ok in rows:
        print(f"  {decile / 10:.1f}-{(decile + 1) / 10:.1f}  {n:4d}  {p:5.2f}  {ok:5.2f}")
    n = max(len(traces), 1)
    return {
        "bench": "foresight",
        "at_risk_rule": at_risk_rule,
        "orders": len(traces),
        "late_orders": late,
        "recall": round(rules.recall, 3),
        "baseline_recall": round(base.recall, 3),
        "lead_time_share_median": round(rules.lead_share_median, 3),
        "baseline_lead_time_share_median": round(base.lead_share_median, 3),
        "precision": round(rules.precision, 3),
        "eta_error_share_p50_at_50pct": round(quantile(tracker_eta[0.5], 0.5), 3),
        "eta_error_share_p90_at_50pct": round(quantile(tracker_eta[0.5], 0.9), 3),
        "flip_flop_share": round(flips / n, 3),
        "calibration_max_gap": round(calibration_gap(rows), 3),
        "foresight_recall": round(fore.recall, 3),
        "foresight_lead_time_share_median": round(fore.lead_share_median, 3),
        "foresight_precision": round(fore.precision, 3),
        "foresight_flip_flop_share": round(fore_flips / n, 3),
    }

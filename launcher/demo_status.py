"""What the demo's console says: the status line and the closing summary (pure: data in, text out).

A `Snapshot` is built from the tracker's API answers (`/api/v1/orders`, `/api/v1/alerts`) and
the gateway's message count; demo_console.py polls them and shows the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DONE = frozenset({"completed", "shipped"})


@dataclass(frozen=True)
class OrderState:
    """One of the run's orders as the order list shows it."""

    order_id: str
    status: str
    schedule_status: str
    on_time: bool


@dataclass(frozen=True)
class Snapshot:
    """The run at one moment: plant time, its orders, its alerts, the messages received."""

    plant_s: float
    orders: tuple[OrderState, ...] = ()
    alerts_raised: int = 0
    alerts_acknowledged: int = 0
    messages: int = 0


def snapshot(
    plant_s: float,
    orders: Iterable[Mapping[str, Any]],
    alerts: Iterable[Mapping[str, Any]],
    run_ids: Iterable[str],
    messages: int,
) -> Snapshot:
    """The run's part of the API answers: its own orders and alerts only (the database may
    hold earlier runs')."""
    ids = set(run_ids)
    mine = [a for a in alerts if a["order_id"] in ids]
    return Snapshot(
        plant_s=plant_s,
        orders=tuple(
            OrderState(o["order_id"], o["status"], o["schedule_status"], bool(o["on_time"]))
            for o in orders
            if o["order_id"] in ids
        ),
        alerts_raised=len(mine),
        alerts_acknowledged=sum(1 for a in mine if a.get("acked_at")),
        messages=messages,
    )


def clock(seconds: float) -> str:
    """Plant time as H:MM:SS."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def late_orders(snap: Snapshot) -> list[str]:
    """Orders finished after their due date, or still open and late."""
    return [
        o.order_id
        for o in snap.orders
        if (o.status in DONE and not o.on_time)
        or (o.status not in DONE and o.status != "cancelled" and o.schedule_status == "late")
    ]


def status_line(snap: Snapshot) -> str:
    """`plant 1:05:00 | on track 2 · at risk 1 · late 1 · done 1 | alerts 1 (0 acked) | ...`."""
    open_orders = [o for o in snap.orders if o.status not in DONE and o.status != "cancelled"]
    counts = {
        kind: sum(1 for o in open_orders if o.schedule_status == kind)
        for kind in ("on_track", "at_risk", "late")
    }
    done = sum(1 for o in snap.orders if o.status in DONE)
    return (
        f"plant {clock(snap.plant_s)} | on track {counts['on_track']} · "
        f"at risk {counts['at_risk']} · late {counts['late']} · done {done} | "
        f"alerts {snap.alerts_raised} ({snap.alerts_acknowledged} acknowledged) | "
        f"{snap.messages:,} messages"
    )


def story_over(snap: Snapshot, expected: int) -> bool:
    """Every one of the scenario's `expected` orders is placed and no longer open."""
    closed = [o for o in snap.orders if o.status in DONE or o.status == "cancelled"]
    return expected > 0 and len(closed) >= expected


def summary_lines(snap: Snapshot, links: Mapping[str, str], ended: bool) -> list[str]:
    """The closing words: orders on time and late, alerts, the late orders' tracking pages."""
    late = late_orders(snap)
    on_time = sum(1 for o in snap.orders if o.status in DONE and o.on_time)
    still_open = sum(
        1
        for o in snap.orders
        if o.status not in DONE and o.status != "cancelled" and o.order_id not in late
    )
    head = "the story has ended" if ended else "the demo stopped"
    orders = f"{on_time} on time, {len(late)} late"
    if late:
        orders += f" ({', '.join(late)})"
    if still_open:
        orders += f", {still_open} still in work"
    lines = [
        f"shopfloor demo: {head} at plant time {clock(snap.plant_s)}",
        f"  orders:  {orders}",
        f"  alerts:  {snap.alerts_raised} raised, {snap.alerts_acknowledged} acknowledged",
    ]
    lines += [
        f"  late:    {order_id} tracking page {links[order_id]}"
        for order_id in late
        if order_id in links
    ]
    return lines

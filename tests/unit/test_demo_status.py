"""The demo console's words: the status line, when the story is over, the closing summary."""

from __future__ import annotations

from launcher.demo_status import (
    OrderState,
    Snapshot,
    clock,
    late_orders,
    snapshot,
    status_line,
    story_over,
    summary_lines,
)

LINKS = {"SO-3": "http://127.0.0.1:8000/track/SO-3?token=t3"}


def _snap(*orders: OrderState, raised: int = 2, acked: int = 1) -> Snapshot:
    return Snapshot(3723.9, orders, raised, acked, 12345)


def test_plant_time_reads_as_hours_minutes_seconds() -> None:
    assert [clock(s) for s in (0, 59.9, 3723.9, 36000, -5)] == [
        "0:00:00",
        "0:00:59",
        "1:02:03",
        "10:00:00",
        "0:00:00",
    ]


def test_the_status_line_counts_open_orders_by_schedule_and_done_ones_apart() -> None:
    snap = _snap(
        OrderState("SO-1", "in_progress", "on_track", True),
        OrderState("SO-2", "released", "at_risk", True),
        OrderState("SO-3", "in_progress", "late", False),
        OrderState("SO-4", "completed", "on_track", True),
        OrderState("SO-5", "cancelled", "late", False),
    )
    assert status_line(snap) == (
        "plant 1:02:03 | on track 1 · at risk 1 · late 1 · done 1 | "
        "alerts 2 (1 acknowledged) | 12,345 messages"
    )


def test_late_orders_are_those_finished_late_or_open_and_late() -> None:
    snap = _snap(
        OrderState("SO-1", "completed", "on_track", True),
        OrderState("SO-2", "shipped", "late", False),
        OrderState("SO-3", "in_progress", "late", False),
        OrderState("SO-4", "cancelled", "late", False),
    )
    assert late_orders(snap) == ["SO-2", "SO-3"]


def test_the_story_is_over_once_every_expected_order_is_closed() -> None:
    done = OrderState("SO-1", "completed", "on_track", True)
    working = OrderState("SO-2", "in_progress", "on_track", True)
    assert not story_over(_snap(done, working), expected=2)
    assert not story_over(_snap(done), expected=2)  # SO-2 not placed yet
    assert story_over(_snap(done, OrderState("SO-2", "cancelled", "late", False)), expected=2)
    assert not story_over(_snap(), expected=0)


def test_the_summary_names_the_late_order_and_its_tracking_page() -> None:
    snap = _snap(
        OrderState("SO-1", "completed", "on_track", True),
        OrderState("SO-2", "shipped", "on_track", True),
        OrderState("SO-3", "completed", "late", False),
        OrderState("SO-4", "in_progress", "at_risk", True),
    )
    assert summary_lines(snap, LINKS, ended=True) == [
        "shopfloor demo: the story has ended at plant time 1:02:03",
        "  orders:  2 on time, 1 late (SO-3), 1 still in work",
        "  alerts:  2 raised, 1 acknowledged",
        "  late:    SO-3 tracking page http://127.0.0.1:8000/track/SO-3?token=t3",
    ]


def test_a_summary_without_late_orders_names_no_page() -> None:
    snap = _snap(OrderState("SO-1", "completed", "on_track", True), raised=0, acked=0)
    assert summary_lines(snap, LINKS, ended=False) == [
        "shopfloor demo: the demo stopped at plant time 1:02:03",
        "  orders:  1 on time, 0 late",
        "  alerts:  0 raised, 0 acknowledged",
    ]


def test_a_snapshot_keeps_only_this_runs_orders_and_alerts() -> None:
    orders = [
        {"order_id": "SO-1-r2", "status": "in_progress", "schedule_status": "late", "on_time": 0},
        {"order_id": "SO-1", "status": "completed", "schedule_status": "late", "on_time": False},
    ]
    alerts: list[dict[str, str | None]] = [
        {"order_id": "SO-1-r2", "acked_at": "2026-12-07T10:00:00Z"},
        {"order_id": "SO-1-r2", "acked_at": None},
        {"order_id": "SO-1", "acked_at": None},
    ]
    snap = snapshot(60.0, orders, alerts, ["SO-1-r2"], 7)
    assert snap == Snapshot(60.0, (OrderState("SO-1-r2", "in_progress", "late", False),), 2, 1, 7)

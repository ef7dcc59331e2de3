"""The demo's scenario in the tracker: orders placed at their plant time, times compressed by
the speed factor, and the expected outcome polled through the API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from device_sim.scenario import OrderSpec, Scenario
    from tracker.bootstrap import Tracker

log = logging.getLogger(__name__)


@dataclass
class DemoRun:
    """What a run placed: scenario order ids -> tracker order ids, customer links."""

    ids: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


def place_order(
    tracker: Tracker, spec: OrderSpec, order_id: str, start: datetime, speed: float
) -> str:
    """Create one scenario order in the tracker, its times compressed by `speed`; the token."""
    from tracker.domain import commands
    from tracker.tokens import hash_token, new_token

    token = new_token()
    tracker.bus.handle(
        commands.CreateOrder(
            order_id=order_id,
            customer=spec.customer,
            product=spec.product,
            quantity=spec.quantity,
            due_at=start + timedelta(seconds=spec.due / speed),
            token_hash=hash_token(token),
            priority=spec.priority,
            operations=tuple(
                commands.OperationSpec(
                    op.seq, op.name, op.machine, op.setup / speed, op.cycle / speed
                )
                for op in spec.routing
            ),
        )
    )
    return token


def order_feeder(
    tracker: Tracker,
    scenario: Scenario,
    run: DemoRun,
    start: datetime,
    speed: float,
    stop: threading.Event,
    link: Callable[[str, str], str],
) -> None:
    """Place each order at its plant time (rush orders arrive while the plant runs)."""
    for spec in sorted(scenario.orders, key=lambda o: o.at):
        wait = (start + timedelta(seconds=spec.at / speed) - datetime.now(UTC)).total_seconds()
        if wait > 0 and stop.wait(wait):
            return
        order_id = run.ids[spec.id]
        try:
            token = place_order(tracker, spec, order_id, start, speed)
        except Exception:
            log.exception("could not place order %s", order_id)
            continue
        run.links[spec.id] = link(order_id, token)
        if spec.at > 0:
            log.info("order %s placed (%s)", order_id, run.links[spec.id])


def check_outcome(
    scenario: Scenario, run: DemoRun, api: str, key: str, start: float, speed: float
) -> int:
    """Poll the expected outcome through the API until it holds or its time is up."""
    import httpx

    from device_sim.expect import check

    assert scenario.expect is not None
    expect = scenario.expect
    deadline = start + expect.within / speed

    def get(path: str) -> Any:
        response = httpx.get(api + path, headers={"X-API-Key": key}, timeout=10)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    while True:
        time.sleep(1.0)
        final = time.monotonic() >= deadline
        try:
            outcome = check(expect, get, run.ids)
        except Exception as exc:  # the API not up yet: try again
            log.warning("expected outcome not checked: %s", exc)
            if not final:
                continue
            raise
        # "no alerts" can only be known at the end; the rest may hold early
        if outcome.ok and (final or not expect.no_alerts) or final:
            for what in outcome.passed:
                print(f"  ok      {what}")  # noqa: T201
            for what in outcome.failures:
                print(f"  FAILED  {what}")  # noqa: T201
            verdict = "holds" if outcome.ok else "does not hold"
            print(f"scenario {scenario.name}: the expected outcome {verdict}")  # noqa: T201
            return 0 if outcome.ok else 1

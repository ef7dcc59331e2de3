"""A scenario's orders placed at their plant time and its outcome checked, through the tracker's
HTTP API (or, in the demo, straight into the tracker), times compressed by the speed factor.

So a plant can rehearse a scenario on its own tracker: `shopfloor sim --scenario FILE
--tracker URL --check` places the orders, runs the machines and judges the outcome.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .expect import check
from .scenario import OrderSpec, Scenario

log = logging.getLogger(__name__)

Place = Callable[[OrderSpec, str], str]  # (order, id in the tracker) -> the customer's token


@dataclass
class Run:
    """What a run placed: scenario order ids -> tracker order ids, customer links."""

    ids: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


def due_at(spec: OrderSpec, start: datetime, speed: float) -> datetime:
    return start + timedelta(seconds=spec.due / speed)


class TrackerApi:
    """The few calls a rehearsal makes, with a supervisor's key."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers={"X-API-Key": api_key}, timeout=10
        )

    def get(self, path: str) -> Any:
        """The JSON answer of a GET; None for a 404."""
        response = self._http.get(path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def free_ids(self, order_ids: list[str]) -> dict[str, str]:
        """Scenario order id -> an id the tracker does not have yet (`-r2`, `-r3`... if taken)."""
        number = 1
        while True:
            ids = {oid: oid if number == 1 else f"{oid}-r{number}" for oid in order_ids}
            if all(self.get(f"/api/v1/orders/{oid}") is None for oid in ids.values()):
                return ids
            number += 1

    def placer(self, start: datetime, speed: float) -> Place:
        """Places orders with POST /api/v1/orders, their times compressed by `speed`."""

        def place(spec: OrderSpec, order_id: str) -> str:
            body = {
                "order_id": order_id,
                "customer": spec.customer,
                "product": spec.product,
                "quantity": spec.quantity,
                "due_at": due_at(spec, start, speed).isoformat(),
                "priority": spec.priority,
                "operations": [
                    {
                        "seq": op.seq,
                        "name": op.name,
                        "machine": op.machine,
                        "setup_s": op.setup / speed,
                        "cycle_s": op.cycle / speed,
                    }
                    for op in spec.routing
                ],
            }
            response = self._http.post("/api/v1/orders", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text[:500]}")
            return str(response.json()["access_token"])

        return place

    def close(self) -> None:
        self._http.close()


def feed_orders(
    place: Place,
    orders: list[OrderSpec],
    run: Run,
    start: datetime,
    speed: float,
    stop: threading.Event,
    link: Callable[[str, str], str],
) -> None:
    """Place each order at its plant time (rush orders arrive while the plant runs)."""
    for spec in sorted(orders, key=lambda o: o.at):
        wait = (start + timedelta(seconds=spec.at / speed) - datetime.now(UTC)).total_seconds()
        if wait > 0 and stop.wait(wait):
            return
        order_id = run.ids[spec.id]
        try:
            token = place(spec, order_id)
        except Exception as exc:
            log.error("could not place order %s: %s", order_id, exc)
            continue
        run.links[spec.id] = link(order_id, token)
        if spec.at > 0:
            log.info("order %s placed (%s)", order_id, run.links[spec.id])


def check_outcome(
    scenario: Scenario, run: Run, get: Callable[[str], Any], start: float, speed: float
) -> int:
    """Poll the expected outcome until it holds or its time is up; print it; 0 if it held."""
    assert scenario.expect is not None
    expect = scenario.expect
    deadline = start + expect.within / speed
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
            out = sys.stdout.write
            for what in outcome.passed:
                out(f"  ok      {what}\n")
            for what in outcome.failures:
                out(f"  FAILED  {what}\n")
            verdict = "holds" if outcome.ok else "does not hold"
            out(f"scenario {scenario.name}: the expected outcome {verdict}\n")
            sys.stdout.flush()
            return 0 if outcome.ok else 1


def judge(
    scenario: Scenario, run: Run, get: Callable[[str], Any], speed: float, then: Callable[[], None]
) -> Callable[[], int]:
    """Check the expected outcome on a thread of its own, then call `then` (stop the run);
    returns what tells the exit code once it is known (1 until then)."""
    result = {"code": 1}

    def judge_then_stop() -> None:
        try:
            result["code"] = check_outcome(scenario, run, get, time.monotonic(), speed)
        except Exception:
            log.exception("the expected outcome could not be checked")
        finally:
            then()

    threading.Thread(target=judge_then_stop, name="expect", daemon=True).start()
    return lambda: result["code"]


def rehearse(
    scenario: Scenario, api: TrackerApi, speed: float, stop: threading.Event, check: bool
) -> Callable[[], int]:
    """Place the scenario's orders in the tracker as the plant runs; with `check`, judge the
    outcome and then set `stop`. Returns what tells the exit code once the run is over."""
    start = datetime.now(UTC)
    run = Run(ids=api.free_ids([o.id for o in scenario.orders]))

    def link(order_id: str, token: str) -> str:
        return f"{api.base_url}/track/{order_id}?token={token}"

    threading.Thread(
        target=feed_orders,
        args=(api.placer(start, speed), scenario.orders, run, start, speed, stop, link),
        name="orders",
        daemon=True,
    ).start()
    log.info("placing %d orders in the tracker at %s", len(scenario.orders), api.base_url)
    if not check:
        return lambda: 0
    return judge(scenario, run, api.get, speed, stop.set)

"""Publishes each machine's dispatch list, retained at QoS 1, when a new plan changed it.

A worker thread of its own: a replan only wakes it, so reading and publishing never delay the
planner, and a burst of replans gives one publish of the newest plan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import paho.mqtt.client as mqtt

from shopfloor.contract.payloads import encode
from shopfloor.contract.topics import dispatch_topic
from shopfloor.failures import OnceLog
from tracker.domain.planning.dispatch_lists import Queue, dispatch_list, news
from tracker.domain.planning.model import Plan

from .worker import Worker

log = logging.getLogger(__name__)

# each machine's queue in a plan, given the machines told before
QueuesOf = Callable[[Plan, Iterable[str]], dict[str, Queue]]


class DispatchListPublisher(Worker):
    """Publishes the current plan's dispatch lists that changed since they were last published;
    `notify()` says a new plan is in.

    A list the broker did not acknowledge is not taken as published: the next look (every
    `poll_s`) tries again. A list that cannot be made or sent (a machine id no topic or list
    can hold) is skipped until the machine's queue changes; each machine is tried on its own,
    and a failure is logged once per cause. What was published is remembered in memory only,
    so a restarted tracker publishes every list once.
    """

    name = "dispatch-mqtt"

    def __init__(
        self,
        client: mqtt.Client,
        site: str,
        plans: Callable[[], Plan | None],
        queues_of: QueuesOf,
        poll_s: float = 1.0,
        ack_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(poll_s, join_timeout_s=ack_timeout_s + 5)
        self._client = client
        self._site = site
        self._plans = plans
        self._queues_of = queues_of
        self._ack_timeout_s = ack_timeout_s
        self._published: dict[str, Queue] = {}
        self._refused: dict[str, Queue] = {}  # lists that could not be made or sent
        self._unsent: dict[str, str] = {}  # machine -> why the broker did not take its list
        self._once = OnceLog(log)
        self._forget = False
        self.done: Plan | None = None  # the newest plan whose lists are all out
        self.messages = 0  # lists published
        self.last_duration_s = 0.0

    def work_once(self) -> None:
        if self._forget:
            self._forget = False
            self._published.clear()
            self._refused.clear()
            self._unsent.clear()
        plan = self._plans()
        if plan is None or plan is self.done or not self._client.is_connected():
            return
        if not self.fence():  # only the leader publishes
            return
        try:
            self.publish(plan)
        except Exception as exc:
            self._once.failed("*", exc, "publishing dispatch lists failed; will retry")
        else:
            self._once.ok("*")

    def publish(self, plan: Plan) -> int:
        """Publish the lists of `plan` that changed; returns how many the broker acknowledged."""
        t0 = time.perf_counter()
        queues = self._queues_of(plan, self._published)
        # only the lists that changed are built: most queues stay as they were
        sent: list[tuple[str, mqtt.MQTTMessageInfo]] = []
        for machine in news({**self._published, **self._refused}, queues):
            try:
                sent.append((machine, self._send(machine, plan, queues[machine])))
            except Exception as exc:  # this machine's list only: the others still go out
                self._refused[machine] = queues[machine]
                self._once.failed(machine, exc, "dispatch list of %s cannot be sent", machine)
        deadline = time.monotonic() + self._ack_timeout_s
        failed = 0
        for machine, info in sent:
            error = _wait(info, deadline)
            if error is None:
                self._published[machine] = queues[machine]
                self._refused.pop(machine, None)
                self._once.ok(machine)
                self._unsent.pop(machine, None)
            else:
                failed += 1
                if self._unsent.get(machine) != error:  # once per cause, not every look
                    log.warning("dispatch list of %s not published: %s", machine, error)
                self._unsent[machine] = error
        if not failed:
            self.done = plan
        self.messages += len(sent) - failed
        self.last_duration_s = time.perf_counter() - t0
        if sent:
            log.info(
                "published %d dispatch lists of %d machines in %.2fs",
                len(sent) - failed,
                len(self._published),
                self.last_duration_s,
            )
        return len(sent) - failed

    def forget(self) -> None:
        """Forget what was published: a new leader publishes every list once (another
        instance may have published since). Done on the publisher's own thread."""
        self._forget = True
        self.done = None
        self.notify()

    def _send(self, machine: str, plan: Plan, queue: Queue) -> mqtt.MQTTMessageInfo:
        payload = encode(dispatch_list(machine, plan.made_at, queue))
        return self._client.publish(
            dispatch_topic(self._site, machine), payload, qos=1, retain=True
        )


def _wait(info: mqtt.MQTTMessageInfo, deadline: float) -> str | None:
    """None once the broker acknowledged the message, else why not."""
    if info.rc != mqtt.MQTT_ERR_SUCCESS:
        return mqtt.error_string(info.rc)
    try:
        info.wait_for_publish(timeout=max(deadline - time.monotonic(), 0.0))
    except (RuntimeError, ValueError) as exc:
        return str(exc)
    return None if info.is_published() else "not acknowledged by the broker in time"

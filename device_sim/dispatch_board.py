"""Where simulated machines get their work: a fixed job list, or the tracker's dispatch lists.

`DispatchBoard` keeps the latest dispatch list of each machine (the tracker publishes them
retained on `shopfloor/{site}/dispatch/{machine}`) and hands a free machine the first job on its
list that is ready and that no machine of this simulation is working. A finished job is handed
out again only by a list made well after it finished (the tracker still misses parts: messages
were lost on the way), so a stale list never repeats work. Thread-safe: lists arrive on the
MQTT thread, jobs are taken on the simulation's.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from shopfloor.contract.payloads import DispatchList, PayloadError, parse_dispatch

from .jobs import Job

log = logging.getLogger(__name__)

# how much later than a job's end a list must be made to hand that job out again
STALE = timedelta(seconds=2)


class DispatchBoard:
    """The latest dispatch list per machine; `time_scale` turns its wall-clock seconds into
    plant seconds (the run's speed factor)."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self._lists: dict[str, DispatchList] = {}
        # jobs being worked (None) or finished (when)
        self._taken: dict[tuple[str, int], datetime | None] = {}
        self._lock = threading.Lock()
        self.rejected = 0

    def update(self, dispatch: DispatchList) -> None:
        with self._lock:
            old = self._lists.get(dispatch.machine)
            if old is None or old.plan_made_at <= dispatch.plan_made_at:
                self._lists[dispatch.machine] = dispatch

    def receive(self, topic: str, payload: bytes) -> None:
        """A message on the dispatch topic; a bad one is logged and ignored."""
        if not payload:
            return  # a cleared retained list
        try:
            self.update(parse_dispatch(payload))
        except PayloadError as exc:
            self.rejected += 1
            log.warning("ignoring a bad dispatch list on %s: %s", topic, exc)

    def take(self, machine_id: str) -> Job | None:
        """The next job for a free machine, or None."""
        with self._lock:
            dispatch = self._lists.get(machine_id)
            if dispatch is None:
                return None
            for entry in dispatch.jobs:
                key = (entry.order_id, entry.operation)
                if not entry.ready or key in self._taken and not self._redo(key, dispatch):
                    continue
                self._taken[key] = None
                return Job(
                    entry.order_id,
                    entry.operation,
                    machine_id,
                    entry.quantity,
                    entry.cycle_s * self.time_scale,
                    entry.setup_s * self.time_scale,
                )
        return None

    def _redo(self, key: tuple[str, int], dispatch: DispatchList) -> bool:
        finished = self._taken[key]
        return finished is not None and dispatch.plan_made_at > finished + STALE

    def finished(self, job: Job, at: datetime) -> None:
        """A machine finished `job` at wall-clock time `at`."""
        with self._lock:
            self._taken[job.key] = at

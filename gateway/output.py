"""The gateway's output: batches written to the store, spooled while it is away and replayed
in order, a rejected batch halved until its bad points are found; then acknowledged."""

from __future__ import annotations

import logging
import threading
import time

from .acks import AckSequencer
from .batcher import Batch, Batcher
from .dead_letters import DeadLetters
from .metrics import GatewayMetrics
from .sinks import Sink, SinkRejected, SinkUnavailable
from .spool import Spool, SpoolFull
from .stats import GatewayStats

log = logging.getLogger(__name__)

_MIN_BACKOFF_S = 0.5
_MAX_BACKOFF_S = 30.0


class DurableOutput:
    """Writer threads take batches and make them durable (stored or spooled) before their
    messages are acknowledged; a replay thread empties the spool when the store is back."""

    def __init__(
        self,
        sink: Sink,
        spool: Spool,
        batcher: Batcher,
        acks: AckSequencer,
        stats: GatewayStats,
        dead_letters: DeadLetters,
        flush_interval_s: float,
        writers: int,
    ) -> None:
        self._sink, self.spool, self._batcher, self._acks = sink, spool, batcher, acks
        self._stats, self._dead_letters = stats, dead_letters
        self._flush_interval_s = flush_interval_s
        self.metrics: GatewayMetrics | None = None  # set by the gateway: write latencies
        self._stopping = threading.Event()
        self._replay_wake = threading.Event()
        self._spool_full_logged = 0.0
        self._writers = [
            threading.Thread(target=self._write_loop, name=f"gateway-writer-{i}", daemon=True)
            for i in range(writers)
        ]
        self._replayer = threading.Thread(
            target=self._replay_loop, name="gateway-replay", daemon=True
        )

    def start(self) -> None:
        for writer in self._writers:
            writer.start()
        self._replayer.start()

    def stop(self) -> None:
        """Write or spool what the batcher holds, then stop the threads."""
        self._stopping.set()
        self._batcher.wake()
        for writer in self._writers:
            writer.join(timeout=120)
        self._replay_wake.set()
        self._replayer.join(timeout=60)

    def _write_loop(self) -> None:
        while True:
            stopping = self._stopping.is_set()
            batch = self._batcher.take(0 if stopping else self._flush_interval_s)
            if batch is None:
                if stopping:
                    return
                continue
            if self._make_durable(batch):
                self._acks.durable(batch.tokens)
            else:
                log.warning(
                    "stopping with %d points neither stored nor spooled; their %d "
                    "messages stay unacknowledged and the broker delivers them again",
                    len(batch),
                    len(batch.tokens),
                )

    def _make_durable(self, batch: Batch) -> bool:
        """Store the batch, or spool it while the store is away; False only when stopping
        with the spool full (the messages then stay with the broker)."""
        backoff = _MIN_BACKOFF_S
        while True:
            if not batch.lines:
                return True
            if len(self.spool) == 0:  # while batches wait in the spool, keep their order
                try:
                    self._write_isolating_rejects(batch.lines)
                    return True
                except SinkUnavailable as exc:
                    self._stats.count("write_retries")
                    log.warning("store unavailable (%s); spooling %d points", exc, len(batch))
            try:
                self.spool.append(batch.lines)
            except SpoolFull as exc:
                self._stats.count("spool_full")
                self._log_spool_full(exc)
                if self._stopping.is_set():
                    return False
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
                continue
            self._stats.count("batches_spooled")
            self._replay_wake.set()
            return True

    def _log_spool_full(self, exc: SpoolFull) -> None:
        now = time.monotonic()
        if now - self._spool_full_logged > 10:
            self._spool_full_logged = now
            log.error(
                "%s: not acknowledging new messages; the broker holds the backlog until "
                "the store is back (%d messages waiting)",
                exc,
                self._acks.pending,
            )

    def _replay_loop(self) -> None:
        backoff = _MIN_BACKOFF_S
        while not self._stopping.is_set():
            oldest = self.spool.oldest()
            if oldest is None:
                self._replay_wake.wait(1.0)
                self._replay_wake.clear()
                continue
            seq, lines = oldest
            try:
                self._write_isolating_rejects(lines)
            except SinkUnavailable as exc:
                self._stats.count("write_retries")
                log.info(
                    "replay waits for the store (%s); %d batches spooled; retry in %.1fs",
                    exc,
                    len(self.spool),
                    backoff,
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
                continue
            backoff = _MIN_BACKOFF_S
            self.spool.remove(seq)
            self._stats.count("batches_replayed")
            if len(self.spool) == 0:
                log.info("spool replayed; writing directly again")

    def _write_isolating_rejects(self, lines: list[str]) -> None:
        """A rejected batch is halved until the bad points are found; the good ones are kept."""
        if not lines:
            return
        t0 = time.perf_counter()
        try:
            self._sink.write(lines)
        except SinkRejected as exc:
            if len(lines) == 1:
                self._dead_letters.point(lines[0], str(exc))
                return
            mid = len(lines) // 2
            self._write_isolating_rejects(lines[:mid])
            self._write_isolating_rejects(lines[mid:])
            return
        if self.metrics is not None:
            self.metrics.write_seconds.observe(time.perf_counter() - t0)
            self.metrics.batch_points.observe(len(lines))
        self._stats.count("points_written", len(lines))
        self._stats.count("batches_written")

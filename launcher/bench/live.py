"""A live paho publisher that runs while the gateway drains, checking every QoS 1 publish."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .broker import Broker, payloads, telemetry_topic

# paho loses QoS 1 publishes past 65,535 unacknowledged (rc MQTT_ERR_QUEUE_SIZE), so wait for
# the broker every CHECK_EVERY messages; a small in-flight window is also paho's fastest here
CHECK_EVERY = 50
INFLIGHT = 20


class LivePublisher:
    """Publishes `messages` one-reading messages as fast as paho goes, in a background thread."""

    def __init__(self, broker: Broker, site: str, machine: str, messages: int, end_ms: int):
        self._broker = broker
        self._topic = telemetry_topic(site, machine)
        self._payloads = payloads(messages, 1, end_ms)
        self._thread = threading.Thread(target=self._run, name=f"live-{machine}", daemon=True)
        self.error: BaseException | None = None
        self.elapsed_s = 0.0

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        """Wait until every message is acknowledged by the broker; re-raise a publish error."""
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise TimeoutError(f"live publisher still running after {timeout_s:.0f} s")
        if self.error is not None:
            raise self.error

    @property
    def rate(self) -> float:
        """Messages per second over the publisher's run."""
        return len(self._payloads) / self.elapsed_s if self.elapsed_s else 0.0

    def _run(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.max_inflight_messages_set(INFLIGHT)
        try:
            client.connect(self._broker.host, self._broker.port)
            client.loop_start()
            t0 = time.perf_counter()
            pending: list[mqtt.MQTTMessageInfo] = []
            for i, payload in enumerate(self._payloads):
                info = client.publish(self._topic, payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    raise RuntimeError(f"publish {i} failed: {mqtt.error_string(info.rc)}")
                if i % CHECK_EVERY == CHECK_EVERY - 1:
                    pending.append(info)
                    if len(pending) > 2:  # keep at most ~3 x CHECK_EVERY unacknowledged
                        pending.pop(0).wait_for_publish(30)
            if self._payloads:  # the broker acknowledges in order: the last one covers all
                info.wait_for_publish(30)
                if not info.is_published():
                    raise RuntimeError("broker did not acknowledge the last live messages")
            self.elapsed_s = time.perf_counter() - t0
        except BaseException as exc:  # reported by join()
            self.error = exc
        finally:
            client.disconnect()
            client.loop_stop()

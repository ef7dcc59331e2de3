"""The Sparkplug B case of `shopfloor bench gateway`: NBIRTH and NDATA by alias, one host."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.sparkplug.edge import EdgeNodeSession
from shopfloor.sparkplug.values import DataType

from .broker import Broker
from .cases import GatewayBench
from .report import Case

_INFLIGHT = 1000


def publish_sparkplug_backlog(broker: Broker, group: str, messages: int, end_ms: int) -> None:
    """NBIRTH then `messages` NDATA of one Double by alias, one ms apart, at QoS 1 (queued)."""
    session = EdgeNodeSession(group, "m0")
    session.define(None, "v", DataType.DOUBLE, None)  # a null birth value: no extra reading
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-edge-{group}")
    client.max_inflight_messages_set(_INFLIGHT)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.publish(*session.node_birth(end_ms - messages), qos=1).wait_for_publish(30)
        last: mqtt.MQTTMessageInfo | None = None
        base = end_ms - messages + 1
        for i in range(messages):
            last = client.publish(*session.data(None, {"v": i + 0.5}, base + i), qos=1)
            if last.rc != mqtt.MQTT_ERR_SUCCESS:
                raise RuntimeError(f"publish failed: {mqtt.error_string(last.rc)}")
        if last is not None:
            last.wait_for_publish(120)
    finally:
        client.disconnect()
        client.loop_stop()


def sparkplug_case(bench: GatewayBench, messages: int) -> Case:
    """The real gateway as a Sparkplug host draining a backlog of NDATA, one reading each."""
    site = bench._site("sparkplug")
    env = bench.gateway_env(
        site,
        SHOPFLOOR_SPARKPLUG__ENABLED="true",
        SHOPFLOOR_SPARKPLUG__GROUP=site,  # the group id is the `site` tag the store counts
        SHOPFLOOR_SPARKPLUG__HOST_ID=f"bench-{site}",
    )
    bench.open_session(env, site)
    publish_sparkplug_backlog(bench.broker, site, messages, bench.end_ms)
    seconds, peak_rss = bench.drain(env, site, [messages])
    return Case("gateway: sparkplug (NDATA by alias)", messages, messages, seconds, "", peak_rss)

"""`shopfloor gateway`: the MQTT -> InfluxDB gateway until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging

from pydantic import ValidationError

from gateway.service import Gateway
from gateway.settings import GatewaySettings

from .errors import settings_error
from .signals import stop_on_signals

log = logging.getLogger("shopfloor")


def cmd_gateway(_args: argparse.Namespace) -> int:
    """Run the gateway with its settings from SHOPFLOOR_*; exit code 2 on a bad setting."""
    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        return settings_error(exc)
    gw = Gateway(settings)
    gw.start()
    log.info(
        "gateway running: sink %s, topic templates %s",
        settings.influx.sink,
        [t.pattern for t in settings.templates],
    )
    stop_on_signals().wait()
    gw.stop()
    return 0

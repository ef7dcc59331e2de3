"""Metric names with a meaning: Sparkplug's own control metrics and our machine conventions."""

from __future__ import annotations

# Sparkplug B 3.0: NBIRTH and NDEATH carry bdSeq; a host asks for a rebirth with this NCMD metric
BD_SEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"
# control and property metrics describe the node, not the machine: never telemetry
CONTROL_PREFIXES = ("Node Control/", "Device Control/", "Properties/")


def is_control(name: str) -> bool:
    """True for bdSeq and the Node/Device Control and Properties metrics."""
    return name == BD_SEQ or name.startswith(CONTROL_PREFIXES)


# The metric names our simulator publishes, and the gateway's default mapping to machine events.
# A real PLC bridge names its tags as it likes: SHOPFLOOR_SPARKPLUG__PROFILES maps them.
STATE_METRIC = "Machine/State"
ALARM_METRIC = "Machine/Alarm"
COUNTER_METRIC = "Production/GoodParts"
SCRAP_METRIC = "Production/ScrapParts"
CYCLE_TIME_METRIC = "Production/CycleTime"
ORDER_METRIC = "Job/Order"
OPERATION_METRIC = "Job/Operation"

"""shopfloor, the ground floor: wire contract, Sparkplug codec, MQTT factory, YAML files, logs.

Every service imports it; it imports nothing of ours (tests/unit/test_architecture.py).
"""

__version__ = "0.1.0"

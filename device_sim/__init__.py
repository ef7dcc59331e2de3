"""Simulated machines that publish telemetry and events over MQTT, per the contract."""

"""The MQTT-to-InfluxDB gateway: input -> parse -> convert -> batch -> output."""

"""Entry points: MQTT events, HTTP requests and scheduler ticks become commands."""

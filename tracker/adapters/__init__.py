"""Adapters: the database, the MQTT alert publisher."""

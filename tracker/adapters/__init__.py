"""Adapters: the database (engine, sessions, the SQL unit of work and its repositories), the
alert and dispatch-list publishers, webhooks, parked messages, the optimiser."""

"""Who may read and change what: staff API keys and their roles, customers' per-order tokens.

The HTTP side (the `X-API-Key` header checked per route) is `tracker.entrypoints.auth`.
"""

"""Read models: every query the API, the board and the metrics answer, each on a read-only
session (on SQLite it never waits for the event consumer's write lock)."""

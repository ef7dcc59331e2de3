"""Real servers started on free ports in temporary directories, for the benchmarks and the tests.

Mosquitto, InfluxDB 1.x, VictoriaMetrics and fresh PostgreSQL databases: one harness shared by
`shopfloor bench` and the test session (tests/services.py re-exports it).
"""

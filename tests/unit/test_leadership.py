"""The advisory lock's key and the lock connection's timings."""

from __future__ import annotations

import pytest

from tracker.adapters.leadership import conninfo_of, lock_key, timings


def test_each_site_has_its_own_lock_in_the_int4_range() -> None:
    first, second = lock_key("plant1"), lock_key("plant2")
    assert first != second and first[0] == second[0]
    for key in (*first, *second, *lock_key("x" * 100)):
        assert -(2**31) <= key < 2**31
    assert lock_key("plant1") == first  # the same on every instance


@pytest.mark.parametrize("timeout_s", [1.0, 2.0, 10.0, 60.0, 300.0])
def test_the_server_drops_a_silent_leader_only_after_it_stopped_counting_itself_leader(
    timeout_s: float,
) -> None:
    t = timings(timeout_s)
    server_s = t["keepalives_idle"] + t["keepalives_interval"] * t["keepalives_count"]
    grace_s = 0.4 * timeout_s  # PgLeadership: leader while its last good check is younger
    assert server_s > grace_s
    assert t["tcp_user_timeout"] / 1000 < grace_s  # a hung check fails before the grace ends
    assert f"tcp_user_timeout={int(timeout_s * 800)}" in t["options"]
    if timeout_s >= 10:
        assert server_s <= 0.9 * timeout_s  # a standby's next try still fits in the timeout


def test_the_lock_connection_takes_the_sqlalchemy_url_as_libpq_does() -> None:
    url = "postgresql+psycopg://user:pw@db.example:5433/shopfloor?sslmode=require"
    assert conninfo_of(url) == "postgresql://user:pw@db.example:5433/shopfloor?sslmode=require"

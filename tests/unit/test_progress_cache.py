"""The progress cache: recent answers per order, dropped on change, never kept if stale."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.domain.planning.model import Plan, Rule
from tracker.entrypoints.progress_cache import Cached, ProgressCache
from tracker.service_layer.bus import Changes

PLAN = Plan(datetime(2026, 3, 2, tzinfo=UTC), Rule.EDD)


def _entry(plan: Plan | None = PLAN, at: float = 1e12) -> Cached:
    return Cached("h", None, '"e"', plan, at)  # type: ignore[arg-type]


def test_an_answer_made_before_a_change_is_not_kept() -> None:
    cache = ProgressCache()
    generation = cache.generation("SO-1")
    cache.forget(Changes(orders=frozenset({"SO-1"})))  # committed while the answer was made

    cache.put("SO-1", _entry(), generation)

    assert cache.get("SO-1", PLAN) is None
    cache.put("SO-1", _entry(), cache.generation("SO-1"))
    assert cache.get("SO-1", PLAN) is not None


def test_a_change_or_a_new_plan_drops_the_answer() -> None:
    cache = ProgressCache()
    cache.put("SO-1", _entry(), (0, 0))
    cache.put("SO-2", _entry(), (0, 0))

    cache.forget(Changes(orders=frozenset({"SO-1"})))

    assert cache.get("SO-1", PLAN) is None
    assert cache.get("SO-2", Plan(PLAN.made_at, Rule.EDD)) is None  # another plan
    assert cache.get("SO-2", PLAN) is None  # and it is gone for good


def test_answers_expire_and_the_cache_is_bounded() -> None:
    cache = ProgressCache(ttl_s=10.0, max_entries=2)
    cache.put("old", _entry(at=0.0), (0, 0))  # made long ago (monotonic time 0)
    assert cache.get("old", PLAN) is None
    for order_id in ("a", "b", "c"):
        cache.put(order_id, _entry(), (0, 0))
    assert cache.get("a", PLAN) is None and cache.get("c", PLAN) is not None


def test_the_change_table_starts_afresh_when_it_grows_and_drops_answers_in_flight() -> None:
    cache = ProgressCache(max_entries=2)
    in_flight = cache.generation("SO-9")
    cache.forget(Changes(orders=frozenset({"a", "b", "c"})))  # past the bound: a new epoch

    cache.put("SO-9", _entry(), in_flight)

    assert cache.get("SO-9", PLAN) is None

"""Changes as NOTIFY payloads: split under PostgreSQL's limit, read back whole."""

from __future__ import annotations

import json

from tracker.adapters.change_fanout import _MAX_PAYLOAD, decode_changes, encode_changes
from tracker.service_layer.bus import Changes


def test_changes_round_trip_through_one_payload_with_the_sender() -> None:
    changes = Changes(
        orders=frozenset({"SO-1", "SO-2"}), alerts=frozenset({7}), machines=frozenset({"saw-1"})
    )
    (payload,) = encode_changes("me", changes)
    assert decode_changes(payload) == ("me", changes)


def test_many_changes_are_split_into_payloads_under_the_limit_and_lose_nothing() -> None:
    orders = frozenset(f"SO-{i:05d}-{'x' * 40}" for i in range(1000))
    alerts = frozenset(range(500))
    payloads = list(encode_changes("me", Changes(orders=orders, alerts=alerts)))
    assert len(payloads) > 1
    assert all(len(p.encode()) < 8000 and len(p) <= _MAX_PAYLOAD + 200 for p in payloads)
    got = [decode_changes(p)[1] for p in payloads]
    assert frozenset().union(*(c.orders for c in got)) == orders
    assert frozenset().union(*(c.alerts for c in got)) == alerts


def test_nothing_changed_sends_nothing() -> None:
    assert list(encode_changes("me", Changes())) == []


def test_a_malformed_payload_raises_a_value_error_or_key_error() -> None:
    for bad in ("not json", json.dumps({"o": ["SO-1"]}), json.dumps({"i": "x", "a": ["z"]})):
        try:
            decode_changes(bad)
        except (ValueError, KeyError, TypeError):
            continue
        raise AssertionError(f"accepted {bad!r}")

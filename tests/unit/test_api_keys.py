"""API keys: roles in order, hashes only, the admin key from SHOPFLOOR_API_KEY."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from tracker.auth.api_keys import ApiKeySpec, KeyRing, Role, hash_key
from tracker.settings import TrackerSettings

VIEWER_KEY = "viewer-key-0123456789"


def test_roles_include_the_ones_below() -> None:
    assert Role.ADMIN.allows(Role.SUPERVISOR) and Role.ADMIN.allows(Role.VIEWER)
    assert Role.SUPERVISOR.allows(Role.VIEWER) and not Role.SUPERVISOR.allows(Role.ADMIN)
    assert not Role.VIEWER.allows(Role.SUPERVISOR)


def test_a_key_is_found_by_its_hash_and_nothing_else_is() -> None:
    ring = KeyRing([ApiKeySpec(name="board", role=Role.VIEWER, key_sha256=hash_key(VIEWER_KEY))])
    found = ring.lookup(VIEWER_KEY)
    assert found is not None and (found.name, found.role) == ("board", Role.VIEWER)
    for other in (None, "", VIEWER_KEY + "x", VIEWER_KEY.upper(), hash_key(VIEWER_KEY)):
        assert ring.lookup(other) is None


def test_settings_read_keys_as_json_and_make_the_api_key_admin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = hashlib.sha256(VIEWER_KEY.encode()).hexdigest().upper()
    monkeypatch.setenv("SHOPFLOOR_API_KEY", "admin-key-0123456789")
    monkeypatch.setenv(
        "SHOPFLOOR_API_KEYS", f'[{{"name": "board", "role": "viewer", "key_sha256": "{digest}"}}]'
    )
    settings = TrackerSettings()  # type: ignore[call-arg]
    admin, board = settings.all_api_keys()
    assert (admin.name, admin.role) == ("admin", Role.ADMIN)
    assert board.key_sha256 == digest.lower()
    ring = KeyRing(settings.all_api_keys())
    assert getattr(ring.lookup("admin-key-0123456789"), "role", None) is Role.ADMIN
    assert ring.lookup(VIEWER_KEY) is not None


@pytest.mark.parametrize(
    "entry",
    [
        '{"name": "x", "role": "boss", "key_sha256": "' + "0" * 64 + '"}',
        '{"name": "x", "role": "viewer", "key_sha256": "not-a-hash"}',
        '{"name": "x", "role": "viewer", "key": "plain-text-key-000"}',
    ],
)
def test_a_bad_key_entry_fails_at_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("SHOPFLOOR_API_KEY", "admin-key-0123456789")
    monkeypatch.setenv("SHOPFLOOR_API_KEYS", f"[{entry}]")
    with pytest.raises(ValidationError, match="api_keys"):
        TrackerSettings()  # type: ignore[call-arg]

"""Per-order tokens: random, stored as a hash, checked in constant time."""

from __future__ import annotations

import hashlib
import re

import pytest

from tracker.auth.order_tokens import hash_token, new_token, token_matches


def test_new_tokens_are_url_safe_and_carry_192_bits() -> None:
    token = new_token()

    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)  # 24 bytes -> 32 base64url characters


def test_new_tokens_do_not_repeat() -> None:
    assert len({new_token() for _ in range(200)}) == 200


def test_token_hash_is_sha256_hex_and_stable() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    assert hash_token("abc") == hash_token("abc")
    assert len(hash_token("abc")) == 64


def test_hash_does_not_contain_the_token() -> None:
    token = new_token()

    assert token not in hash_token(token)


def test_token_matches_its_own_hash() -> None:
    token = new_token()

    assert token_matches(token, hash_token(token))


@pytest.mark.parametrize("given", ["wrong", "", None])
def test_wrong_or_missing_token_does_not_match(given: str | None) -> None:
    assert not token_matches(given, hash_token(new_token()))


@pytest.mark.parametrize("stored", [None, ""])
def test_order_without_a_stored_hash_matches_no_token(stored: str | None) -> None:
    assert not token_matches("anything", stored)
    assert not token_matches("", stored)
    assert not token_matches(None, stored)


def test_token_comparison_is_case_sensitive() -> None:
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"

    assert not token_matches(token.lower(), hash_token(token))

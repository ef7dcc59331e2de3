"""Standard Webhooks signatures: the spec's own example, malformed secrets refused without
being quoted, and the stdlib receiver of docs/alerts.md accepting what the tracker signs."""

from __future__ import annotations

import base64
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

from tracker.webhook_signatures import new_secret, sign, signing_key

RECEIVER = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def receiver() -> ModuleType:
    """examples/webhook_receiver.py, the receiver docs/alerts.md shows, as a module."""
    spec = importlib.util.spec_from_file_location("webhook_receiver", RECEIVER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_signature_is_the_one_the_standard_webhooks_libraries_make() -> None:
    # the test vector of the standard-webhooks reference libraries
    key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    "secret",
    [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_c2hvcnQ=",  # 5 bytes
        "whsec_" + base64.b64encode(b"x" * 65).decode(),  # more than 64
        "whsec_not base64!",
        "whsec_",
    ],
)
def test_a_malformed_secret_is_refused_without_being_quoted(secret: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        signing_key(secret)
    assert "base64 of 24 to 64 random bytes" in str(excinfo.value)
    if secret != "whsec_":
        assert secret not in str(excinfo.value)


def test_new_secrets_are_well_formed_and_distinct() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and len(signing_key(first)) == 32


def test_the_readme_receiver_accepts_a_signed_body_and_refuses_tampering_and_replays() -> None:
    verify = receiver().verify
    secret = new_secret()
    body = b'{"alert_id":7,"version":2}'
    headers = {
        "webhook-id": "alert-7-v2",
        "webhook-timestamp": "1700000000",
        "webhook-signature": sign(signing_key(secret), "alert-7-v2", 1700000000, body),
    }
    assert verify(secret, headers, body, now=1700000100)
    assert not verify(secret, headers, body + b" ", now=1700000100)  # body changed
    assert not verify(secret, {**headers, "webhook-id": "alert-7-v3"}, body, now=1700000100)
    assert not verify(secret, headers, body, now=1700000000 + 301)  # replayed too late
    assert not verify(new_secret(), headers, body, now=1700000100)  # another endpoint's
    rotated = {**headers, "webhook-signature": "v1,b2xk " + headers["webhook-signature"]}
    assert verify(secret, rotated, body, now=1700000100)


def test_the_alerts_page_shows_the_receivers_check_as_it_is() -> None:
    page = (RECEIVER.parents[1] / "docs" / "alerts.md").read_text(encoding="utf-8")
    assert inspect.getsource(receiver().verify) in page

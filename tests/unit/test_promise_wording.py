"""What a customer reads of a moved promise: dates in the plant's zone, no internals."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.clock import T0
from tracker.domain.promise_wording import html_text, subject, text, webhook_body
from tracker.domain.promises import PromiseNotice

BERLIN = ZoneInfo("Europe/Berlin")
LATE = PromiseNotice(
    "SO-1", "ACME <&>", "bracket", T0, T0 + timedelta(hours=2), T0 + timedelta(hours=5), True
)
LINK = "https://track.example.com/track/SO-1?token=abc"


def test_the_email_gives_the_promised_likely_and_latest_dates_in_the_plants_zone() -> None:
    body = text(LATE, BERLIN, LINK)

    assert "Promised:       2026-03-02 09:00 CET" in body
    assert "Likely ready:   2026-03-02 11:00 CET" in body
    assert "At the latest:  2026-03-02 14:00 CET" in body
    assert body.rstrip().endswith(f"Follow it here: {LINK}")
    assert "may be late" in body and "at risk" in subject(LATE)


def test_a_restored_promise_says_back_on_time() -> None:
    restored = replace(LATE, at_risk=False)

    assert "back on time" in text(restored, BERLIN, None)
    assert "back on time" in subject(restored)
    assert "Follow it here" not in text(restored, BERLIN, None)


def test_the_html_alternative_escapes_what_it_shows() -> None:
    page = html_text(LATE, BERLIN, LINK + "&x=<y>")

    assert "ACME &lt;&amp;&gt;" in page
    assert 'href="https://track.example.com/track/SO-1?token=abc&amp;x=&lt;y&gt;"' in page


def test_the_webhook_body_names_its_type_and_keeps_utc_and_no_internals() -> None:
    body = webhook_body(LATE, "notice-7", LINK)

    assert body == {
        "id": "notice-7",
        "type": "order.promise_moved",
        "order_id": "SO-1",
        "customer": "ACME <&>",
        "product": "bracket",
        "promised_at": "2026-03-02T08:00:00+00:00",
        "eta_likely": "2026-03-02T10:00:00+00:00",
        "eta_latest": "2026-03-02T13:00:00+00:00",
        "tracking_url": LINK,
    }

"""What a customer reads when their order's promise moves: the email's subject and text, and
the webhook's JSON body. No internals: no machine, no probability."""

from __future__ import annotations

import html
from datetime import tzinfo
from typing import Any

from .promises import PromiseNotice
from .wording import at


def subject(notice: PromiseNotice) -> str:
    """The email's subject line."""
    if notice.at_risk:
        return f"Order {notice.order_id}: the promised date is at risk"
    return f"Order {notice.order_id}: back on time for the promised date"


def _lines(notice: PromiseNotice, tz: tzinfo, link: str | None) -> list[str]:
    if notice.at_risk:
        news = "may be late: it is now unlikely to be ready by the date we promised."
    else:
        news = "is back on time: it is again likely to be ready by the date we promised."
    lines = [
        f"Your order {notice.order_id} ({notice.product}) {news}",
        "",
        f"Promised:       {at(notice.due_at, tz)}",
        f"Likely ready:   {at(notice.eta_p50, tz)}",
        f"At the latest:  {at(notice.eta_p90, tz)}",
    ]
    if link is not None:
        lines += ["", f"Follow it here: {link}"]
    return lines


def text(notice: PromiseNotice, tz: tzinfo, link: str | None) -> str:
    """The email's plain text."""
    return "\n".join([f"Dear {notice.customer},", "", *_lines(notice, tz, link), ""])


def html_text(notice: PromiseNotice, tz: tzinfo, link: str | None) -> str:
    """The email's HTML alternative: the same lines, escaped, the link clickable."""
    lines = _lines(notice, tz, None)
    body = "<br>\n".join(html.escape(line) for line in lines)
    if link is not None:
        href = html.escape(link, quote=True)
        body += f'<br>\n<br>\n<a href="{href}">Follow your order</a>'
    return f"<p>Dear {html.escape(notice.customer)},</p>\n<p>{body}</p>\n"


def webhook_body(notice: PromiseNotice, notice_id: str, link: str | None) -> dict[str, Any]:
    """The webhook's JSON: the notice's id (also `webhook-id`), its type, the dates in UTC."""
    return {
        "id": notice_id,
        "type": notice.kind,
        "order_id": notice.order_id,
        "customer": notice.customer,
        "product": notice.product,
        "promised_at": notice.due_at.isoformat(),
        "eta_likely": notice.eta_p50.isoformat(),
        "eta_latest": notice.eta_p90.isoformat(),
        "tracking_url": link,
    }

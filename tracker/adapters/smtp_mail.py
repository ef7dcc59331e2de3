"""Email through an SMTP server (smtplib): plain text with an HTML alternative, one connection
per message (notices are rare)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Literal

Security = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes and how the tracker signs in (`password` never logged)."""

    host: str
    port: int
    sender: str
    security: Security = "starttls"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


def message(server: SmtpServer, to: str, subject: str, text: str, html: str, ref: str) -> bytes:
    """One email: `ref` goes into `X-Shopfloor-Notice` (the same on each retry: receivers and
    filters de-duplicate on it)."""
    mail = EmailMessage()
    mail["From"] = server.sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(idstring=ref)
    mail["X-Shopfloor-Notice"] = ref
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    return mail.as_bytes(policy=SMTP)  # CRLF line ends, as the protocol wants


def send_mail(server: SmtpServer, to: str, body: bytes) -> None:
    """Hand one message to the server; raises smtplib.SMTPException or OSError when it is not
    accepted."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.security == "ssl":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout_s, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout_s)
    with smtp:
        if server.security == "starttls":
            smtp.starttls(context=context)
        if server.username is not None:
            smtp.login(server.username, server.password or "")
        smtp.sendmail(server.sender, [to], body)

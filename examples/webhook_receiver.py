"""An alert webhook receiver that checks shopfloor's signatures (Standard Webhooks); stdlib only.

WEBHOOK_SECRET='whsec_...' python examples/webhook_receiver.py 8080
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_S = 300  # older or newer attempts are refused: a captured request cannot be replayed


def verify(secret: str, headers: Mapping[str, str] | Message, body: bytes, now: float) -> bool:
    """True when `webhook-signature` holds a `v1` signature of this id, timestamp and body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_S:
        return False
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    given = headers.get("webhook-signature", "").split()  # several during a secret's rotation
    return any(hmac.compare_digest(signature, expected) for signature in given)


def make_handler(secret: str, handle: Callable[[dict[str, Any]], object]) -> type[Any]:
    """An HTTP handler passing each verified alert, once per `webhook-id`, to `handle`."""
    seen: set[str] = set()  # a real receiver keeps these for longer than TOLERANCE_S

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(secret, self.headers, body, time.time()):
                self.send_response(401)
            else:
                if self.headers["webhook-id"] not in seen:  # a retry is acknowledged again
                    seen.add(self.headers["webhook-id"])
                    handle(json.loads(body))
                self.send_response(204)
            self.end_headers()

    return Handler


if __name__ == "__main__":
    handler = make_handler(
        os.environ["WEBHOOK_SECRET"], lambda alert: sys.stdout.write(alert["text"] + "\n")
    )
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()

"""The tracker's app served by uvicorn in a thread, for tests that need a real server (event
streams, client timeouts), and the Server-Sent Events it streams, parsed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from tests.services import free_port
from tests.waiting import wait_for
from tracker.bootstrap import Tracker
from tracker.entrypoints.api import create_app
from tracker.entrypoints.http_server import Server


class Running:
    """The tracker's app served by uvicorn in a thread: streams need a real server."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.url = f"http://127.0.0.1:{free_port()}"
        config = uvicorn.Config(
            create_app(tracker), host="127.0.0.1", port=int(self.url.rsplit(":", 1)[1])
        )
        self.server = Server(config, tracker.changes)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), "the server", 20)
        assert self.server.started, "server did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)
        assert not self.thread.is_alive(), "server did not stop"


def events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """Server-Sent Events as (name, parsed JSON); comment lines as ("comment", text)."""
    name, data = "message", ""
    for line in response.iter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "message", ""

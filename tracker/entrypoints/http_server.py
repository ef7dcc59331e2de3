"""The tracker's HTTP server: uvicorn, ending the live event streams as shutdown begins."""

from __future__ import annotations

import socket

import uvicorn

from tracker.change_feed import ChangeFeed


class Server(uvicorn.Server):
    """uvicorn that closes the change feed as shutdown begins, ending the event streams."""

    def __init__(self, config: uvicorn.Config, feed: ChangeFeed) -> None:
        super().__init__(config)
        self._feed = feed

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn waits for open responses before it stops, and an event stream never ends by
        # itself: without this a stop with a board open would hang
        self._feed.close()
        await super().shutdown(sockets)

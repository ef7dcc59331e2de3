"""The API docs, /docs (Swagger UI) and /redoc, from the package alone: no CDN, no internet.

fastapi-offline ships the Swagger UI and ReDoc assets and serves them under
/static-offline-docs (FastAPI's documented self-hosting: `docs_url=None` and
`get_swagger_ui_html(swagger_js_url=...)`). ReDoc's sidebar still links a logo from its CDN, so
both pages carry a Content-Security-Policy that lets them load nothing from elsewhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = frozenset({"/docs", "/redoc"})
POLICY = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    b" img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:;"
    b" connect-src 'self'; frame-ancestors 'none'"
)


class _DocsPolicy:
    """Pure ASGI middleware: the docs pages answer with `POLICY`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in DOCS_PATHS:
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"content-security-policy", POLICY)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)


def offline_app(**settings: Any) -> FastAPI:
    """A FastAPI app (`settings` as FastAPI takes them) whose docs work offline."""
    app = FastAPIOffline(**settings)
    app.add_middleware(_DocsPolicy)
    return app

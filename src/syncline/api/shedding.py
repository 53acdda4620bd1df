"""Load shedding: past a fixed number of requests in flight, answer 429 at once, not queue.

A process that accepts every request under overload queues them for its database pool, and then
every request is slow, timeouts fire and clients retry into the backlog. Refusing the excess at the
door, before routing, authentication or any query, keeps the latency of the requests it serves
bounded and tells clients when to come back (`Retry-After`).
"""

from __future__ import annotations

import time
from collections.abc import Collection

import orjson
import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.api.errors import error_body

__all__ = ["EXEMPT_PATHS", "LoadShedding"]

log = structlog.get_logger("syncline.api")

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
"""Probes always answer: an orchestrator must not restart a process for being busy."""


class LoadShedding:
    """Pure ASGI middleware: at most `limit` HTTP requests in flight, the rest answered 429.

    A request is in flight from the moment it arrives until the app has sent the last byte of
    its body, so a streamed response (NDJSON, file content) holds its place until it is done.

    Args:
        app: the application to protect.
        limit: requests served at once; one more is answered 429 without touching `app`.
        retry_after: the seconds a refused client is told to wait (`Retry-After`).
        exempt: paths that are never counted nor refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        retry_after: int = 1,
        exempt: Collection[str] = EXEMPT_PATHS,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.app = app
        self.limit = limit
        self.inflight = 0
        self.shed = 0
        self._exempt = frozenset(exempt)
        self._headers = [
            (b"content-type", b"application/json"),
            (b"retry-after", str(retry_after).encode()),
        ]
        self._body = orjson.dumps(
            error_body(
                f"The server is at its limit of {limit} requests at once; "
                f"retry after {retry_after} s.",
                "TOO_MANY_REQUESTS",
            )
        )
        self._headers.append((b"content-length", str(len(self._body)).encode()))
        self._logged_at = float("-inf")
        self._shed_since_log = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.limit:
            await self._refuse(send)
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1

    async def _refuse(self, send: Send) -> None:
        # Nothing is read, parsed or queried: the request body (if any) is left unread.
        self.shed += 1
        self._shed_since_log += 1
        now = time.monotonic()
        if now - self._logged_at >= 10.0:
            log.warning("api.load_shed", refused=self._shed_since_log, limit=self.limit)
            self._logged_at, self._shed_since_log = now, 0
        await send({"type": "http.response.start", "status": 429, "headers": self._headers})
        await send({"type": "http.response.body", "body": self._body})

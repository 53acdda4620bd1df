"""Serve any ASGI app with uvicorn on 127.0.0.1 in a background thread, for tests and demos.

Apps may drop a connection without answering (a fake upstream's "drop" fault) through the
`ABORT_EXTENSION` this server adds to every HTTP scope: plain uvicorn would turn an app that
sends nothing into a 500, which is not what a dropped connection looks like.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ABORT_EXTENSION", "BackgroundServer"]

ABORT_EXTENSION = "syncline.sandbox.abort"
"""Scope extension: `scope["extensions"][ABORT_EXTENSION]["abort"]()` closes the connection."""


class BackgroundServer:
    """A uvicorn server in a daemon thread, bound to a free port on 127.0.0.1.

    Use as a context manager; `url` is valid once it is entered (or `start()` returned).

    Args:
        app: the ASGI application.
        host: interface to bind.
        port: 0 picks a free port.
        graceful_shutdown: seconds `stop()` lets in-flight requests finish.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        graceful_shutdown: int = 1,
    ) -> None:
        self._transports: dict[tuple[str, int], asyncio.Transport] = {}
        self._socket = socket.create_server((host, port))
        # Accepted connections inherit this. asyncio sets it only on sockets it made itself
        # (proto 6): without it a small answer written in two parts waits ~40 ms for an ACK.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self._with_abort(app),
            http=_tracking_protocol(self._transports),
            log_level="warning",
            lifespan="auto",
            timeout_graceful_shutdown=graceful_shutdown,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. `http://127.0.0.1:51234`."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Self:
        """Start serving; returns once the server accepts connections.

        Raises:
            RuntimeError: the server did not start within `timeout` seconds.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _with_abort(self, app: ASGIApp) -> ASGIApp:
        transports = self._transports

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                transport = transports.get(scope.get("client") or ("", 0))
                if transport is not None:
                    extensions = dict(scope.get("extensions") or {})
                    extensions[ABORT_EXTENSION] = {"abort": transport.close}
                    scope = {**scope, "extensions": extensions}
            await app(scope, receive, send)

        return wrapped


def _tracking_protocol(transports: dict[tuple[str, int], asyncio.Transport]) -> type[H11Protocol]:
    """An h11 protocol that records each connection's transport by peer address."""

    class TrackingH11Protocol(H11Protocol):
        # uvicorn narrows BaseProtocol.connection_made to asyncio.Transport, as we must too.
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if self.client is not None:
                transports[self.client] = transport

        def connection_lost(self, exc: Exception | None) -> None:
            if self.client is not None:
                transports.pop(self.client, None)
            super().connection_lost(exc)

    return TrackingH11Protocol

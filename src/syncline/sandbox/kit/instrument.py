"""The outermost layer of every fake: records traffic, applies armed faults and latency.

A provider's app gives who a request's bearer token belongs to (for the traffic record) and how
its faults look on the wire; hangs and dropped connections are the same for all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl

import httpx
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncline.sandbox.kit.faults import Fault, FaultQueue
from syncline.sandbox.kit.server import ABORT_EXTENSION
from syncline.sandbox.kit.traffic import Traffic

__all__ = ["Answer", "Instrumented", "bearer"]

Answer = Callable[[Fault, Scope, Receive, Send], Awaitable[Receive | None]]
"""Answers a request as its fault says: None when answered, else a receive to serve it with
(a fault that only shapes the page the handler serves)."""


class _Knobs(Protocol):
    """What the layer reads from a fake's state at each request (tests change them live)."""

    traffic: Traffic
    faults: FaultQueue
    latency: float
    hang_seconds: float


@dataclass
class Instrumented:
    app: ASGIApp
    state: _Knobs
    caller: Callable[[Headers], str | None]
    """The user behind the request's bearer token, if it is live."""
    answer: Answer
    slow: Callable[[str], bool] = lambda path: True
    """Whether latency applies to this path (the token endpoint is never slowed)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        headers = Headers(scope=scope)
        traffic = self.state.traffic
        number = traffic.begin(
            scope["method"],
            path,
            query,
            caller=self.caller(headers),
            user_agent=headers.get("user-agent"),
        )
        try:
            fault = self.state.faults.take(path, query)
            if fault is not None:
                if fault.kind in ("timeout", "drop"):
                    resumed = await self._cut(fault, scope, receive)
                else:
                    resumed = await self.answer(fault, scope, receive, send)
                if resumed is None:
                    return
                receive = resumed
            if self.state.latency > 0 and self.slow(path):
                await asyncio.sleep(self.state.latency)
            await self.app(scope, receive, send)
        finally:
            traffic.end(number)

    async def _cut(self, fault: Fault, scope: Scope, receive: Receive) -> Receive | None:
        """Hang until the client gives up ("timeout"), or close the connection ("drop")."""
        abort = (scope.get("extensions") or {}).get(ABORT_EXTENSION)
        if abort is None:
            # In-process transports (httpx.ASGITransport) have no socket to close and no
            # client timeout to fire: raise what httpx raises in those cases instead.
            if fault.kind == "timeout":
                raise httpx.ReadTimeout("The read operation timed out")
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if fault.kind == "timeout":
            return await _hang(receive, self.state.hang_seconds)
        abort["abort"]()
        await _wait_for_disconnect(receive)
        return None


def bearer(headers: Headers) -> str | None:
    """The request's bearer token, if it sends one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _hang(receive: Receive, seconds: float) -> Receive | None:
    """Wait for the client to give up; if it never does, carry on after `seconds`.

    Returns None when the client disconnected, else a receive that replays what was read.
    """
    buffered: list[Message] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                buffered.append(message)
    except TimeoutError:
        pass

    async def replay() -> Message:
        return buffered.pop(0) if buffered else await receive()

    return replay


async def _wait_for_disconnect(receive: Receive) -> None:
    """After closing the socket: returning before uvicorn notices would make it send a 500."""
    try:
        async with asyncio.timeout(5):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        pass

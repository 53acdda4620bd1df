"""A webhook receiver for tests: a Starlette app that verifies, records and can refuse deliveries.

Every POST (to any path) is verified with `syncline.webhooks.verify` and recorded in
`Receiver.deliveries`, whatever the answer. The answer is, in order of precedence:

* 503 while `down` is True;
* the status given to `fail_next(n, status)`, for the next n requests;
* 500 for a body `refuse` holds true of (a handler bug that fails on one kind of event);
* 400 if the signature does not verify or the body is not JSON;
* 204 otherwise: the delivery is *accepted*.

`events()` and `unique_ids()` only look at accepted deliveries, so they answer "what did the
application actually take", which is what retry tests need to count. The app runs in uvicorn's
thread while the test reads from its own, so all state sits behind one lock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.webhooks import WebhookVerificationError, sign, verify

__all__ = ["Receiver", "create_receiver"]

_POLL_SECONDS = 0.02


@dataclass(eq=False)
class Receiver:
    """A webhook endpoint's state and knobs; serve `.app` with ASGITransport or uvicorn."""

    secret: str = field(repr=False)
    tolerance: timedelta = timedelta(minutes=5)
    down: bool = False
    """While True, every request is answered 503."""
    delay: float = 0.0
    """Seconds to wait before answering (after recording), to provoke sender timeouts."""
    refuse: Callable[[dict[str, Any]], bool] | None = None
    """Bodies this holds true of are answered 500, every time they come."""
    app: Starlette = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _deliveries: list[dict[str, Any]] = field(init=False, repr=False, default_factory=list)
    _fail_remaining: int = field(init=False, repr=False, default=0)
    _fail_status: int = field(init=False, repr=False, default=500)

    def __post_init__(self) -> None:
        sign(self.secret, "probe", 0, b"")  # a malformed secret fails here, not mid-test
        self.app = Starlette(
            routes=[Route("/{path:path}", self._receive, methods=["POST"])],
        )

    # --- knobs ------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next `n` requests with `status` (recorded, never accepted)."""
        with self._lock:
            self._fail_remaining = n
            self._fail_status = status

    def clear(self) -> None:
        """Forget every delivery and reset the knobs."""
        with self._lock:
            self._deliveries.clear()
            self._fail_remaining = 0
            self.down = False
            self.delay = 0.0
            self.refuse = None

    # --- what was received ------------------------------------------------------------------

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every request, in arrival order.

        Each is a dict with `path`, `headers` (lower-case names), `body` (parsed JSON or None),
        `verified`, `status` (what the receiver answered) and `received_at` (UTC).
        """
        with self._lock:
            return [dict(d) for d in self._deliveries]

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """Bodies of the accepted deliveries, in arrival order, optionally of one `event` type.

        A redelivered event appears once per accepted delivery; see `unique_ids`.
        """
        with self._lock:
            return [
                d["body"]
                for d in self._deliveries
                if d["accepted"] and (event is None or d["body"].get("event") == event)
            ]

    def unique_ids(self) -> set[str]:
        """The distinct `webhook-id`s of the accepted deliveries."""
        with self._lock:
            return {d["headers"]["webhook-id"] for d in self._deliveries if d["accepted"]}

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll `predicate` from a synchronous test until it holds.

        Raises:
            AssertionError: it did not hold within `timeout` seconds; lists what was received.
        """
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(timeout))
            time.sleep(_POLL_SECONDS)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """`wait_until` for async tests: polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(timeout))
            await asyncio.sleep(_POLL_SECONDS)

    def _timeout_message(self, timeout: float) -> str:
        seen = [
            (d["status"], d["verified"], (d["body"] or {}).get("event")) for d in self.deliveries
        ]
        return f"condition not met within {timeout}s; (status, verified, event) received: {seen}"

    # --- the endpoint -----------------------------------------------------------------------

    async def _receive(self, request: Request) -> Response:
        raw = await request.body()
        headers = dict(request.headers)
        try:
            verify(self.secret, headers, raw, tolerance=self.tolerance)
        except WebhookVerificationError:
            verified = False
        else:
            verified = True
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = None

        with self._lock:
            if self.down:
                status = 503
            elif self._fail_remaining > 0:
                self._fail_remaining -= 1
                status = self._fail_status
            elif not verified or body is None:
                status = 400
            elif self.refuse is not None and self.refuse(body):
                status = 500
            else:
                status = 204
            self._deliveries.append(
                {
                    "path": request.url.path,
                    "headers": headers,
                    "body": body,
                    "verified": verified,
                    "status": status,
                    "accepted": 200 <= status < 300 and verified and body is not None,
                    "received_at": datetime.now(UTC),
                }
            )
            delay = self.delay

        await _pause(request, delay)
        return Response(status_code=status)


async def _pause(request: Request, seconds: float) -> None:
    """Sleep up to `seconds`, but stop once the sender hangs up.

    Senders hang up when they time out; stopping then leaves a shutting-down server no request
    to cancel (and log as an error).
    """
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(_POLL_SECONDS, remaining))


def create_receiver(secret: str, *, tolerance: timedelta = timedelta(minutes=5)) -> Receiver:
    """A receiver that verifies deliveries with `secret` (whsec_...)."""
    return Receiver(secret, tolerance=tolerance)

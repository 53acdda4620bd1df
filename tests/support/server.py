"""Serve an ASGI app (fake upstream, webhook receiver) on 127.0.0.1 in a background thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp

from syncline.sandbox import BackgroundServer

__all__ = ["serve_in_thread"]


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Run `app` on a free port for the duration of the block; yields its base URL."""
    with BackgroundServer(app) as server:
        yield server.url

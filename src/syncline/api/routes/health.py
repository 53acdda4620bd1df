"""The front door (`/`), liveness and readiness."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from syncline import __version__
from syncline.api.deps import ServicesDep

router = APIRouter()

_LINKS = {"docs": "/docs", "openapi": "/openapi.json", "health": "/healthz", "ready": "/readyz"}


@router.get("/", include_in_schema=False)
async def index(request: Request) -> Response:
    """What this server is and where to look next: JSON, or a small page for a browser."""
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"name": "Syncline", "version": __version__, **_LINKS})
    items = "".join(
        f'<li><a href="{escape(path)}">{escape(name)}</a> <code>{escape(path)}</code></li>'
        for name, path in _LINKS.items()
    )
    return HTMLResponse(
        "<!doctype html><html><head><meta charset=utf-8><title>Syncline</title></head><body>"
        f"<h1>Syncline {escape(__version__)}</h1>"
        "<p>Self-hosted managed sync with a Paragon-compatible API.</p>"
        f"<ul>{items}</ul></body></html>"
    )


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    if await services.ready():
        return JSONResponse({"status": "ready"})
    return JSONResponse(
        {
            "status": "not ready",
            "message": "database unreachable or migrations not current",
            "code": "NOT_READY",
        },
        status_code=503,
    )

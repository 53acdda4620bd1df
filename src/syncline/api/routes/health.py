"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from syncline.api.deps import ServicesDep

router = APIRouter()


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

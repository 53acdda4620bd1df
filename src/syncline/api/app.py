"""Builds the ASGI application from collaborators it is given; builds nothing itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from syncline import __version__
from syncline.api import errors
from syncline.api.compat import JsonBodies, LegacyPaths
from syncline.api.routes import admin, connect, credentials, health, permissions, records, syncs
from syncline.api.routes.admin import AdminAPI
from syncline.api.shedding import LoadShedding
from syncline.auth import TokenVerifier
from syncline.connectors.base import Connector
from syncline.credentials.connect import ConnectFlow
from syncline.domain.cursors import CursorCodec
from syncline.domain.syncs import Sync
from syncline.permissions.evaluator import Evaluator
from syncline.pipelines import PIPELINES, published_schema
from syncline.services import SyncService
from syncline.store.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    """What the routes use; `wiring` builds it."""

    store: Store
    syncs: SyncService
    verifier: TokenVerifier
    public_key: Callable[[str], Awaitable[str | None]]
    cursors: CursorCodec
    connector: Callable[[Sync], Awaitable[Connector]]
    ready: Callable[[], Awaitable[bool]]
    permissions: Evaluator
    admin: AdminAPI | None = None
    """The operator's admin API; None (no `SYNCLINE_ADMIN_TOKEN`) leaves `/admin` unmounted."""
    connect: ConnectFlow | None = None
    """The OAuth connect flow (`/connect/...`)."""
    public_url: str | None = None
    """How clients reach this server (`SYNCLINE_PUBLIC_URL`), for OAuth callback URLs;
    None: the URL the request came in on."""


def create_app(services: Services, *, max_inflight: int | None = None) -> FastAPI:
    """The API; past `max_inflight` requests at once (None: no limit) it answers 429."""
    app = FastAPI(
        title="Syncline",
        version=__version__,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    app.add_middleware(JsonBodies)
    app.add_middleware(LegacyPaths)
    if max_inflight is not None:
        app.add_middleware(LoadShedding, limit=max_inflight)
    app.include_router(health.router)
    app.include_router(syncs.router)
    app.include_router(records.router)
    app.include_router(credentials.router)
    app.include_router(permissions.router)
    app.include_router(connect.router)
    if services.admin is not None:
        app.include_router(admin.router)
    _document_records(app)
    return app


def _document_records(app: FastAPI) -> None:
    """The records endpoints serve each pipeline's record (or a tombstone): say so in the
    schema, from the pipeline schemas themselves, in place of the generic `Record`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        kinds = []
        for pipeline, model in PIPELINES.items():
            published = published_schema(pipeline)
            components.update(published.pop("$defs", {}))
            components[model.__name__] = published
            kinds.append({"$ref": f"#/components/schemas/{model.__name__}"})
        components["Tombstone"] = TOMBSTONE
        components["Record"] = {
            "description": "A record of the sync's pipeline, or the tombstone of a deleted one.",
            "anyOf": [*kinds, {"$ref": "#/components/schemas/Tombstone"}],
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


TOMBSTONE: dict[str, Any] = {
    "type": "object",
    "description": "A deleted record: its metadata removed, its place in the feed kept.",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "externalId": {"type": "string"},
        "deleted": {"type": "boolean", "const": True},
        "syncedAt": {"type": "string", "format": "date-time"},
    },
    "required": ["id", "externalId", "deleted", "syncedAt"],
    "additionalProperties": False,
}

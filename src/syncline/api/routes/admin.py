"""The operator's admin API: project webhook settings, behind `SYNCLINE_ADMIN_TOKEN`.

The router is mounted only when the token is set, so without it every `/admin` path answers 404
like any unknown path and the API is not advertised.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from syncline.api.deps import ServicesDep, get_services, refuse_nul
from syncline.api.errors import documented
from syncline.api.schemas import WebhookSet
from syncline.crypto import SecretBox
from syncline.domain.projects import Project
from syncline.errors import ConfigError, InvalidInput, NotFound, Unauthorized
from syncline.store.store import Store
from syncline.webhooks.destinations import DestinationPolicy, DestinationRefused
from syncline.webhooks.signing import SECRET_PREFIX, generate_secret, sign

__all__ = ["AdminAPI", "router"]


@dataclass(frozen=True, slots=True)
class AdminAPI:
    """What the admin API needs; `Services.admin` is None when it is off."""

    token: str
    box: SecretBox
    destinations: DestinationPolicy
    clock: Callable[[], datetime]

    def __repr__(self) -> str:
        return f"AdminAPI(token=<hidden>, destinations={self.destinations!r})"


def _admin(request: Request) -> AdminAPI:
    admin = get_services(request).admin
    if admin is None:  # not mounted without a token; kept as a guard for hand-built apps
        raise NotFound("Not Found")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = admin.token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise Unauthorized(
            "The admin API needs Authorization: Bearer <SYNCLINE_ADMIN_TOKEN>; "
            "the token is missing or wrong."
        )
    return admin


AdminDep = Annotated[AdminAPI, Depends(_admin)]

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    responses=documented(401, 404, 422, 429, 503),
    dependencies=[Depends(refuse_nul)],
)


def _public(project: Project) -> dict[str, object]:
    return {"id": project.id, "name": project.name, "webhookUrl": project.webhook_url}


async def _project(store: Store, project_id: str) -> Project:
    project = await store.get_project(project_id)
    if project is None:
        raise NotFound(f"Project {project_id} not found.", code="PROJECT_NOT_FOUND")
    return project


@router.get("/projects/{project_id}")
async def get_project(
    project_id: str, _admin: AdminDep, services: ServicesDep
) -> dict[str, object]:
    """The project's id, name and webhook URL; the webhook secret is never shown again."""
    return _public(await _project(services.store, project_id))


@router.put("/projects/{project_id}/webhook", responses=documented(400))
async def set_webhook(
    project_id: str, body: WebhookSet, admin: AdminDep, services: ServicesDep
) -> dict[str, object]:
    """Set the project's webhook endpoint; answers the secret, generated when not given."""
    project = await _project(services.store, project_id)
    secret = body.secret if body.secret is not None else generate_secret()
    _check_secret(secret)
    try:
        await admin.destinations.check(body.url)
    except DestinationRefused as exc:
        raise InvalidInput(
            f"url is refused: {exc}.", field="url", code="WEBHOOK_URL_REFUSED"
        ) from exc
    secret_enc = admin.box.encrypt(secret)
    updated = replace(project, webhook_url=body.url, webhook_secret_enc=secret_enc)
    await services.store.set_webhook(project_id, body.url, secret_enc, admin.clock())
    return {**_public(updated), "webhookSecret": secret}


@router.delete("/projects/{project_id}/webhook")
async def delete_webhook(
    project_id: str, admin: AdminDep, services: ServicesDep
) -> dict[str, object]:
    """Remove the project's webhook endpoint; its events are kept until one is set again."""
    project = await _project(services.store, project_id)
    await services.store.set_webhook(project_id, None, None, admin.clock())
    return _public(replace(project, webhook_url=None, webhook_secret_enc=None))


def _check_secret(secret: str) -> None:
    # The message never repeats the secret: error bodies end up in logs.
    message = (
        f"secret must be {SECRET_PREFIX} followed by the base64 of 24 to 64 random bytes; "
        "omit it to have one generated."
    )
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidInput(message, field="secret", code="INVALID_WEBHOOK_SECRET")
    try:
        sign(secret, "probe", 0, b"")
    except ConfigError as exc:
        raise InvalidInput(message, field="secret", code="INVALID_WEBHOOK_SECRET") from exc

"""The connect flow: an end user links an account through the provider's consent screen.

`GET /connect/{integration}/authorize?redirect=` (with the user token as a bearer header, or as
`token=` when a browser follows a link) sends the user to the provider; the provider sends them
back to `/connect/{integration}/callback`, which stores the credential and redirects to
`redirect` with `credentialId`, or answers a JSON error when the link is replayed or forged or
the provider refuses the code.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from syncline.api.deps import ServicesDep, refuse_nul
from syncline.api.errors import documented
from syncline.auth import Principal
from syncline.credentials.connect import ConnectFlow, with_query
from syncline.errors import InvalidInput, NotFound, Unauthorized

router = APIRouter(
    prefix="/connect",
    tags=["connect"],
    responses=documented(401, 422, 429, 503),
    dependencies=[Depends(refuse_nul)],
)

_REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "To the provider's consent screen, or back to `redirect`."}
}


async def _principal(request: Request, services: ServicesDep, token: str | None) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    given = bearer.strip() if scheme.lower() == "bearer" else (token or "").strip()
    if not given:
        raise Unauthorized(
            "Missing user token: send Authorization: Bearer <user token>, or token=<user token>."
        )
    return await services.verifier.verify(given, services.public_key)


def _callback(request: Request, services: ServicesDep, integration: str) -> str:
    base = services.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/connect/{integration}/callback"


def _flow(services: ServicesDep) -> ConnectFlow:
    if services.connect is None:
        raise NotFound("Not Found")
    return services.connect


@router.get("/{integration}/authorize", status_code=302, responses=_REDIRECT)
async def authorize(
    integration: str,
    redirect: str,
    request: Request,
    services: ServicesDep,
    token: str | None = None,
) -> RedirectResponse:
    """Send the user to the provider's consent screen; they come back to `redirect`."""
    principal = await _principal(request, services, token)
    url = await _flow(services).start(
        principal.project_id,
        principal.user_id,
        integration,
        redirect=redirect,
        callback=_callback(request, services, integration),
    )
    return RedirectResponse(url, status_code=302)


@router.get("/{integration}/callback", status_code=302, responses=_REDIRECT)
async def callback(
    integration: str,
    request: Request,
    services: ServicesDep,
    state: str = "",
    code: str | None = None,
    error: str | None = None,
) -> RedirectResponse:
    """Where the provider sends the user back: store the credential, then go to `redirect`."""
    flow = _flow(services)
    if error is not None:
        return RedirectResponse(await flow.refused(integration, state, error), status_code=302)
    if not code:
        raise InvalidInput("The provider sent no authorization code.", field="code")
    connected = await flow.finish(
        integration, state, code, callback=_callback(request, services, integration)
    )
    target = with_query(
        connected.redirect,
        credentialId=connected.credential.id,
        integration=connected.credential.integration,
        status="connected",
    )
    return RedirectResponse(target, status_code=302)

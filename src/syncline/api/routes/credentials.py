"""Connected accounts: import tokens, list, revoke; and `/sdk/me`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from syncline.api.deps import PrincipalDep, ServicesDep, refuse_nul
from syncline.api.errors import documented
from syncline.api.schemas import (
    CredentialCreate,
    CredentialDeleted,
    CredentialImported,
    CredentialList,
    Me,
)
from syncline.domain.credentials import Credential, TokenSet
from syncline.domain.notifications import iso
from syncline.errors import InvalidInput

router = APIRouter(responses=documented(401, 429, 503), dependencies=[Depends(refuse_nul)])


def _public(credential: Credential) -> dict[str, object]:
    return {
        "id": credential.id,
        "integration": credential.integration,
        "status": credential.status.value,
        "accountEmail": credential.account_email,
        "scopes": credential.scopes,
        "dateCreated": iso(credential.created_at),
    }


@router.post(
    "/api/credentials",
    status_code=201,
    response_model=None,
    responses={201: {"model": CredentialImported}, **documented(400, 422)},
)
async def create_credential(
    body: CredentialCreate, principal: PrincipalDep, services: ServicesDep
) -> dict[str, object]:
    spec = services.syncs.registry.get(body.integration)
    if spec is None:
        raise InvalidInput(
            f"Unknown integration {body.integration!r}.",
            field="integration",
            code="UNKNOWN_INTEGRATION",
        )
    if spec.auth == "keys":
        # The credential is its providerData (checked against the spec's shape); no token.
        tokens = TokenSet("", None, None)
    elif body.access_token is None:
        raise InvalidInput(f"accessToken is required for {spec.integration}.", field="accessToken")
    else:
        tokens = TokenSet(body.access_token, body.refresh_token, body.expires_at)
    imported = await services.syncs.credentials.import_tokens(
        principal.project_id,
        principal.user_id,
        body.integration,
        tokens,
        scopes=body.scopes,
        account_email=body.account_email,
        provider_data=body.provider_data,
    )
    answer = _public(imported.credential)
    if imported.warnings:
        answer["warnings"] = imported.warnings
    return answer


@router.get("/api/credentials", response_model=None, responses={200: {"model": CredentialList}})
async def list_credentials(principal: PrincipalDep, services: ServicesDep) -> dict[str, object]:
    found = await services.store.list_credentials(principal.project_id, principal.user_id)
    return {"data": [_public(c) for c in found]}


@router.delete(
    "/api/credentials/{credential_id}",
    response_model=None,
    responses={200: {"model": CredentialDeleted}, **documented(404)},
)
async def delete_credential(
    credential_id: str, principal: PrincipalDep, services: ServicesDep
) -> JSONResponse:
    await services.syncs.credentials.delete(principal.project_id, principal.user_id, credential_id)
    return JSONResponse({"id": credential_id, "status": "DELETED"})


@router.get("/sdk/me", response_model=None, responses={200: {"model": Me}})
async def me(principal: PrincipalDep, services: ServicesDep) -> dict[str, object]:
    found = await services.store.list_credentials(principal.project_id, principal.user_id)
    return {"userId": principal.user_id, "allCredentials": [_public(c) for c in found]}

"""Typed dependencies: the services, and the caller's identity from the user token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from syncline.auth import Principal
from syncline.errors import InvalidInput, Unauthorized

if TYPE_CHECKING:
    from syncline.api.app import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Declares the bearer scheme in the OpenAPI schema; refusing is ours, so it never raises itself.
_bearer = HTTPBearer(auto_error=False, description="A user token: a JWT signed by the project.")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = "" if credentials is None else credentials.credentials.strip()
    if not token:
        raise Unauthorized("Missing bearer token: send Authorization: Bearer <user token>.")
    services = get_services(request)
    return await services.verifier.verify(token, services.public_key)


def refuse_nul(request: Request) -> None:
    """No id or query parameter of ours holds a NUL, and PostgreSQL text cannot: refuse it
    here rather than let the database fail on it."""
    for params in (request.path_params, request.query_params):
        for name, value in params.items():
            if "\x00" in value:
                raise InvalidInput(f"{name} must not contain NUL characters.", field=name)


ServicesDep = Annotated["Services", Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

"""Typed dependencies: the services, and the caller's identity from the user token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from syncline.auth import Principal
from syncline.errors import Unauthorized

if TYPE_CHECKING:
    from syncline.api.app import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token: send Authorization: Bearer <user token>.")
    services = get_services(request)
    return await services.verifier.verify(token.strip(), services.public_key)


ServicesDep = Annotated["Services", Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

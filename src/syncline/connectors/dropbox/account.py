"""Whom a Dropbox credential acts as, and in which view of the Dropbox its paths are.

A user-linked token acts as its user. A team-linked token (an admin linked a team app) acts on
user routes only as the team member that `Dropbox-API-Select-User` names: `providerData`
`teamMemberId` when the application gave one, else the admin who linked the app
(`team/token/get_authenticated_admin`). Only a team-linked token may call team routes (group
members).

With `orgWideSync`, a member of a team with a team space reads it from its root
(`Dropbox-API-Path-Root: {".tag": "root", "root": <root_namespace_id>}`): team folders at
`/<name>`, the member's own folder at its `home_path`. Without it, paths are relative to the
member's own folder, as Dropbox's default view is. (Dropbox's "Path Root Header Modes" and
"Team Files Guide".)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
import orjson

from syncline.connectors.base import ConnectorContext
from syncline.connectors.bodies import json_object, text
from syncline.connectors.dropbox.errors import raise_for_dropbox
from syncline.connectors.http import map_transport_errors
from syncline.errors import UpstreamResponseError
from syncline.types import JSONObject

__all__ = ["Account", "is_team_token_refusal", "resolve_account"]

TEAM_LINKED_HINT = "entire Dropbox Business team"
"""In the plain-text 400 Dropbox answers a team-linked token on a user route without
`Dropbox-API-Select-User` ("... the OAuth 2 access token you provided is for an entire Dropbox
Business team ...")."""


@dataclass(frozen=True, slots=True)
class Account:
    email: str | None
    name: str | None
    team_token: bool
    """A team-linked token: team routes answer it."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """For every user route (RPC and content host): who to act as, and the path root."""


async def _post(
    ctx: ConnectorContext, route: str, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    async with map_transport_errors():
        return await ctx.http.post(
            f"{ctx.api_url.rstrip('/')}/2/{route}", json=None, headers=headers, auth=ctx.auth
        )


def is_team_token_refusal(response: httpx.Response) -> bool:
    """A team-linked token used on a user route without saying which member it acts as."""
    return response.status_code == 400 and TEAM_LINKED_HINT in response.text


async def _authenticated_admin(ctx: ConnectorContext) -> str:
    """The team member id of the admin who linked a team app."""
    response = await _post(ctx, "team/token/get_authenticated_admin")
    raise_for_dropbox(response)
    profile = json_object(response, provider="Dropbox").get("admin_profile")
    member = text(profile, "team_member_id") if isinstance(profile, dict) else None
    if member is None:
        raise UpstreamResponseError("Dropbox named no team member for the team token's admin")
    return member


async def resolve_account(ctx: ConnectorContext, *, team_space: bool) -> Account:
    """`users/get_current_account` as the credential's member (see the module docstring);
    `team_space` asks for the team space's root view where the account has one.

    Raises:
        UpstreamAuthError: Dropbox refused the token, even after one refresh.
        UpstreamResponseError: a team token whose acting member cannot be found.
    """
    headers: dict[str, str] = {}
    team_token = False
    if member := ctx.provider_data.get("teamMemberId"):
        headers["Dropbox-API-Select-User"] = member
        team_token = True
    response = await _post(ctx, "users/get_current_account", headers)
    if not team_token and is_team_token_refusal(response):
        team_token = True
        headers["Dropbox-API-Select-User"] = await _authenticated_admin(ctx)
        response = await _post(ctx, "users/get_current_account", headers)
    raise_for_dropbox(response)
    body: JSONObject = json_object(response, provider="Dropbox")
    name = body.get("name")
    root = body.get("root_info")
    if team_space and isinstance(root, dict) and root.get(".tag") == "team":
        root_ns = text(root, "root_namespace_id")
        if root_ns is not None and root_ns != text(root, "home_namespace_id"):
            headers["Dropbox-API-Path-Root"] = orjson.dumps(
                {".tag": "root", "root": root_ns}
            ).decode()
    return Account(
        email=text(body, "email"),
        name=text(name, "display_name") if isinstance(name, dict) else None,
        team_token=team_token,
        headers=headers,
    )

"""Microsoft Graph: SharePoint document libraries (`sharepoint`) and OneDrive (`onedrive`),
the `files` pipeline with permissions, over Graph v1.0."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from syncline.connectors.base import ConnectorContext, ConnectorSpec, OAuthFlow
from syncline.connectors.msgraph.config import OneDriveConfig, SharePointConfig
from syncline.connectors.msgraph.connector import CAPABILITIES, GraphConnector, check, identify

__all__ = ["onedrive", "sharepoint"]

API_URL = "https://graph.microsoft.com"
TOKEN_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/token"  # noqa: S105 - a URL
AUTH_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"


def _build(
    model: type[SharePointConfig] | type[OneDriveConfig],
) -> Callable[[BaseModel, ConnectorContext], GraphConnector]:
    def build(config: BaseModel, ctx: ConnectorContext) -> GraphConnector:
        if not isinstance(config, model):
            config = model.model_validate(config.model_dump(by_alias=True))
        return GraphConnector(config, ctx)

    return build


sharepoint = ConnectorSpec(
    integration="sharepoint",
    pipelines=frozenset({"files"}),
    config_model=SharePointConfig,
    default_api_url=API_URL,
    default_token_url=TOKEN_URL,
    default_auth_url=AUTH_URL,
    build=_build(SharePointConfig),
    capabilities=CAPABILITIES,
    identify=identify,
    check=check,
    oauth=OAuthFlow(
        scopes=(
            "offline_access",
            "User.Read",
            "Sites.Read.All",
            "Files.Read.All",
            "GroupMember.Read.All",
        ),
        pkce=True,
        scope_on_refresh=("offline_access",),
    ),
)

onedrive = ConnectorSpec(
    integration="onedrive",
    pipelines=frozenset({"files"}),
    config_model=OneDriveConfig,
    default_api_url=API_URL,
    default_token_url=TOKEN_URL,
    default_auth_url=AUTH_URL,
    build=_build(OneDriveConfig),
    capabilities=CAPABILITIES,
    identify=identify,
    check=check,
    oauth=OAuthFlow(
        scopes=(
            "offline_access",
            "User.Read",
            "Files.Read.All",
            "Sites.Read.All",
            "GroupMember.Read.All",
        ),
        pkce=True,
        scope_on_refresh=("offline_access",),
    ),
)

"""What Atlassian's cloud products (Confluence, Jira) share behind the 3LO gateway: finding a
grant's site (its cloud id) and reading their error answers. Nothing here knows a product."""

from syncline.connectors.atlassian.errors import AtlassianError, parse_error, raise_for_atlassian
from syncline.connectors.atlassian.resources import (
    CLOUD_ID_KEY,
    DEFAULT_RESOURCES_URL,
    GATEWAY_URL,
    RESOURCES_URL_NAME,
    cloud_id,
    pick_site,
)

__all__ = [
    "CLOUD_ID_KEY",
    "DEFAULT_RESOURCES_URL",
    "GATEWAY_URL",
    "RESOURCES_URL_NAME",
    "AtlassianError",
    "cloud_id",
    "parse_error",
    "pick_site",
    "raise_for_atlassian",
]

"""Confluence Cloud: the `files` pipeline over Confluence's REST API v2 (spaces, pages, the
page tree, space permissions) and v1 (CQL search, content restrictions, groups, users),
through Atlassian's 3LO gateway."""

from syncline.connectors.confluence.connector import spec

__all__ = ["spec"]

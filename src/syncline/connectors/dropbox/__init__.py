"""Dropbox: the `files` pipeline over Dropbox API v2 (recursive `list_folder` and its cursor,
the content host, Paper export, sharing members)."""

from syncline.connectors.dropbox.connector import spec

__all__ = ["spec"]

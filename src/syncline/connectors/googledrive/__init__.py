"""Google Drive: the `files` pipeline over Drive API v3 (My Drive and shared drives)."""

from syncline.connectors.googledrive.connector import spec

__all__ = ["spec"]

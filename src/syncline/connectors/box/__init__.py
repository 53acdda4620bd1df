"""Box: the `files` pipeline over Box API v2.0 (folders, files, web links, the event stream,
collaborations)."""

from syncline.connectors.box.connector import spec

__all__ = ["spec"]

"""Amazon S3: the `files` pipeline over one bucket (`ListObjectsV2`, `GetObject`), signed with
Signature Version 4 by botocore; works with S3-compatible servers at another origin."""

from syncline.connectors.amazons3.connector import spec

__all__ = ["spec"]

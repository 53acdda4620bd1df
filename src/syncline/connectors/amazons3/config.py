"""What an Amazon S3 sync accepts (`configuration`, API.md section 8) and what its credential
must carry (`providerData`: the keys and the bucket's region)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = ["MAX_FILE_IDS", "S3Config", "S3Keys"]

MAX_FILE_IDS = 1000

Bucket = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=3,
        max_length=255,
        # S3's rules (3-63 lower-case letters, digits, dots and hyphens), and the legacy
        # us-east-1 names (capitals, underscores, up to 255) that path-style requests reach.
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$",
    ),
]
Key = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
"""An object key as S3 holds it: up to 1024 bytes of UTF-8 (checked below), spaces kept."""
MimeType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def _key_bytes(key: str, what: str) -> str:
    if len(key.encode()) > 1024:
        raise ValueError(f"{what} is longer than S3's 1024 bytes")
    return key


class S3Config(BaseModel):
    """What an S3 `files` sync covers: one bucket, all of it, the keys under a prefix, or chosen
    keys; optionally only objects of some MIME types.

    `bucket`: the bucket (required). `folderId`: a key prefix, taken as S3 takes it: `"A/"`
    is the folder `A` (what records name as their `parentFolderId`), `"A"` also holds `Ab.txt`.
    `fileIds`: exactly these keys (none may end in `/`, which is a folder). `mimeTypes`: only
    objects whose type, derived from the key's extension, is one of these. `folderId` and
    `fileIds` together are an error.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    bucket: Bucket
    folder_id: Key | None = Field(default=None, alias="folderId")
    file_ids: list[Key] | None = Field(
        default=None, alias="fileIds", min_length=1, max_length=MAX_FILE_IDS
    )
    mime_types: list[MimeType] | None = Field(
        default=None, alias="mimeTypes", min_length=1, max_length=100
    )

    @field_validator("bucket")
    @classmethod
    def _no_dot_runs(cls, value: str) -> str:
        if ".." in value:
            raise ValueError("a bucket name has no two dots in a row")
        return value

    @field_validator("folder_id")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        return None if value is None else _key_bytes(value, "folderId")

    @field_validator("file_ids")
    @classmethod
    def _keys(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for key in value:
            _key_bytes(key, f"the key {key!r}")
            if key.endswith("/"):
                raise ValueError(
                    f"{key!r} is a folder (it ends in /): use folderId for the keys under a prefix"
                )
        return list(dict.fromkeys(value))

    @field_validator("mime_types")
    @classmethod
    def _drop_repeats(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_scope_only(self) -> Self:
        if self.folder_id is not None and self.file_ids is not None:
            raise ValueError(
                "give either folderId (a key prefix) or fileIds (chosen keys), not both"
            )
        return self


class S3Keys(BaseModel):
    """An S3 credential's `providerData`: an access key, and the region of the buckets it
    reads (it names the endpoint, `https://s3.{region}.amazonaws.com`, and is part of every
    signature). `sessionToken` for temporary keys (STS).

    The region becomes part of a host name, so it may hold only lower-case letters, digits
    and hyphens: no value can point Syncline at a host outside `amazonaws.com`.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    access_key_id: Annotated[
        str, StringConstraints(min_length=3, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    ] = Field(alias="accessKeyId")
    secret_access_key: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        alias="secretAccessKey", repr=False
    )
    region: Annotated[
        str,
        StringConstraints(min_length=2, max_length=32, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
    ]
    session_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = Field(
        default=None, alias="sessionToken", repr=False
    )

"""Reads `ListObjectsV2` pages and turns S3 objects into normalized File records (`files`).

S3 lists no content type (only a HEAD per object would tell, which costs a request per
object): an object's `mimeType` comes from its key's extension. Common prefixes are not
records: S3 has no folders, only keys with `/` in them, so a record's `parentFolderId` is the
prefix up to its key's last `/` (`"A/"` for `A/a1.txt`), which is also what `folderId` takes.
Keys ending in `/` (the console's "folders", empty objects) are skipped.
"""

from __future__ import annotations

import mimetypes
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from syncline.connectors.amazons3.signing import encode_key
from syncline.domain.records import Upsert
from syncline.errors import UpstreamResponseError
from syncline.types import JSONObject

__all__ = [
    "HASH_TYPE",
    "S3Object",
    "is_folder_key",
    "keep",
    "listing_head",
    "mime_type_of",
    "normalize_object",
    "parent_of",
    "parse_listing",
    "parse_objects",
]

HASH_TYPE = "ETAG"
"""The record's `hash.type`: S3's ETag is the MD5 of the bytes only for single-part uploads
without SSE-KMS, so it is named for what it is."""

_TRUNCATED = re.compile(rb"<IsTruncated>\s*(true|false)\s*</IsTruncated>")
_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
_XML_ESCAPES = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


@dataclass(frozen=True, slots=True)
class S3Object:
    """One `<Contents>` entry of a listing, its key decoded."""

    key: str
    last_modified: str | None
    etag: str | None
    size: int | None
    storage_class: str | None
    checksum_algorithm: str | None = None


def listing_head(raw: bytes) -> tuple[bool, str | None]:
    """Whether the page is truncated, and its `NextContinuationToken`, read without parsing
    the page (the engine parses its objects elsewhere). Both elements are direct children of
    `ListBucketResult`; a key can never look like them (`<` in a key is escaped).

    Raises:
        UpstreamResponseError: the body is not a `ListBucketResult`.
    """
    if b"<ListBucketResult" not in raw[:1024]:
        raise UpstreamResponseError("S3 sent a listing page that is not a ListBucketResult")
    truncated = _TRUNCATED.search(raw)
    token = _TOKEN.search(raw)
    value = None
    if token is not None and token.group(1):
        text = token.group(1)
        for escaped, plain in _XML_ESCAPES.items():
            text = text.replace(escaped, plain)
        value = text.decode()
    return truncated is not None and truncated.group(1) == b"true", value


def _child(element: ET.Element, name: str) -> str | None:
    for child in element:
        if child.tag.rpartition("}")[2] == name:
            return child.text or ""
    return None


def _decoded(value: str, url_encoded: bool) -> str:
    if not url_encoded:
        return value
    try:
        # S3 encodes keys as a form would (a space as `+`, a `+` as `%2B`); moto writes a
        # space as `%20`: unquote_plus reads both the same.
        return unquote_plus(value, errors="strict")
    except UnicodeDecodeError as exc:
        raise UpstreamResponseError(f"S3 sent a key that is not UTF-8: {value!r}") from exc


def _size(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def parse_objects(raw: bytes) -> list[S3Object]:
    """The objects of a `ListObjectsV2` page, keys decoded when S3 says it URL-encoded them
    (`EncodingType` `url`).

    Raises:
        UpstreamResponseError: the page is not XML, or an object has no key.
    """
    try:
        # Python's expat (2.4.1 and later) refuses entity amplification and never fetches
        # external entities, which are what makes XML from a server dangerous to parse.
        root = ET.fromstring(raw)  # noqa: S314
    except ET.ParseError as exc:
        raise UpstreamResponseError(f"S3 sent a listing page that does not parse: {exc}") from exc
    if root.tag.rpartition("}")[2] != "ListBucketResult":
        raise UpstreamResponseError("S3 sent a listing page that is not a ListBucketResult")
    url_encoded = (_child(root, "EncodingType") or "").lower() == "url"
    found: list[S3Object] = []
    for entry in root:
        if entry.tag.rpartition("}")[2] != "Contents":
            continue
        key = _child(entry, "Key")
        if not key:
            raise UpstreamResponseError("S3 listed an object without a key")
        found.append(
            S3Object(
                key=_decoded(key, url_encoded),
                last_modified=_child(entry, "LastModified"),
                etag=_child(entry, "ETag"),
                size=_size(_child(entry, "Size")),
                storage_class=_child(entry, "StorageClass"),
                checksum_algorithm=_child(entry, "ChecksumAlgorithm"),
            )
        )
    return found


def is_folder_key(key: str) -> bool:
    """A key ending in `/`: a "folder" the S3 console made (an empty object), not a file."""
    return key.endswith("/")


def parent_of(key: str) -> str | None:
    """The prefix up to the key's last `/` (the "folder" it is in); None at the top."""
    cut = key.rfind("/")
    return key[: cut + 1] if cut >= 0 else None


def mime_type_of(key: str) -> str:
    """From the key's extension (S3 lists no content type); `application/octet-stream` when
    the extension says nothing."""
    name = key.rpartition("/")[2]
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _timestamp(value: str | None) -> str | None:
    """S3's ISO-8601 (`2024-05-02T10:53:43.000Z`) as UTC with milliseconds."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normalize_object(obj: S3Object, bucket: str, origin: str) -> Upsert:
    """One S3 object as a File record.

    `data` is the File schema without `id`: `externalId` the key, `name` its last segment,
    `updatedAt` S3's LastModified (S3 keeps no creation time), `hash` the ETag, `url` the
    object's path-style address (reading it needs signed requests). `customFields` holds
    `etag` as S3 sends it (quoted), `storageClass` and `bucket`. Every field comes from the
    listing, so an object that did not change lists the same record, which costs nothing.
    """
    etag = obj.etag.strip() if obj.etag else None
    custom: JSONObject = {"bucket": bucket}
    if etag:
        custom["etag"] = etag
    if obj.storage_class:
        custom["storageClass"] = obj.storage_class
    if obj.checksum_algorithm:
        custom["checksumAlgorithm"] = obj.checksum_algorithm
    unquoted = etag.strip('"') if etag else ""
    data: JSONObject = {
        "externalId": obj.key,
        "name": obj.key.rpartition("/")[2],
        "mimeType": mime_type_of(obj.key),
        "size": obj.size,
        "url": f"{origin}/{bucket}/{encode_key(obj.key)}",
        "thumbnailUrl": None,
        "createdAt": None,
        "updatedAt": _timestamp(obj.last_modified),
        "hash": {"type": HASH_TYPE, "value": unquoted} if unquoted else None,
        "parentFolderId": parent_of(obj.key),
        "customFields": custom,
    }
    return Upsert(obj.key, data)


def keep(obj: S3Object, mime_types: frozenset[str] | None) -> bool:
    """In the sync: not a folder marker, and (with `mimeTypes`) of one of the types."""
    if is_folder_key(obj.key):
        return False
    return mime_types is None or mime_type_of(obj.key) in mime_types


def parse_listing(
    raw: bytes, *, bucket: str, origin: str, mime_types: frozenset[str] | None = None
) -> list[Upsert]:
    """The records of a `ListObjectsV2` page (run by the engine in a worker process: it needs
    nothing but the bytes and these arguments).

    Raises:
        UpstreamResponseError: the page does not parse.
    """
    return [
        normalize_object(obj, bucket, origin) for obj in parse_objects(raw) if keep(obj, mime_types)
    ]

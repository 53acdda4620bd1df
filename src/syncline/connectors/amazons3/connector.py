"""Reads one S3 bucket: `ListObjectsV2` listings (every run lists again: S3 has no change
feed), `GetObject` content, and the credential's identity through STS `GetCallerIdentity`.

Every request is signed with Signature Version 4 (`signing.SigV4`, botocore's signer) with the
keys in the credential's `providerData`; the credential has no access token. Requests go
path-style to `https://s3.{region}.amazonaws.com/{bucket}/...`, or to the origin
`SYNCLINE_AMAZONS3_API_URL` names (an S3-compatible server, the sandbox).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import partial
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from syncline.connectors.amazons3.config import S3Config, S3Keys
from syncline.connectors.amazons3.errors import BucketInOtherRegion, raise_for_s3
from syncline.connectors.amazons3.normalize import (
    is_folder_key,
    keep,
    listing_head,
    mime_type_of,
    normalize_object,
    parse_listing,
    parse_objects,
)
from syncline.connectors.amazons3.signing import SigV4, encode_key, encode_query
from syncline.connectors.base import (
    Capabilities,
    ChangeStrategy,
    ConnectorContext,
    ConnectorSpec,
    Download,
    Identity,
    Scope,
    invalid_configuration,
)
from syncline.connectors.http import map_transport_errors
from syncline.domain.records import ChangePage, ListPage, Unparsed, Upsert
from syncline.errors import (
    CredentialRevoked,
    CursorInvalid,
    InvalidInput,
    NotDownloadable,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamResponseError,
)
from syncline.types import Checkpoint

__all__ = ["CAPABILITIES", "S3Connector", "check", "identify", "spec"]

PAGE_SIZE = 1000
"""Keys per `ListObjectsV2` page (S3's maximum)."""
FILE_IDS_PER_PAGE = 50
RELIST_CURSOR = "relist"
"""S3 has no change-feed position: the cursor the engine stores is only this marker."""
DEFAULT_CONTENT_TYPES = frozenset({"binary/octet-stream", "application/octet-stream"})
"""What S3 answers for an object uploaded without a type: the key's extension says more."""

CAPABILITIES = Capabilities(
    changes=ChangeStrategy.RELIST,
    deletions_in_feed=False,
    scopes=frozenset({"bucket", "folder", "items"}),
    hierarchical=False,
    lists_children=False,
)
"""No change feed: every run lists the bucket (or prefix) again and the engine compares each
record's hash, so an unchanged object costs no write and an object no longer listed is
deleted at the end of the listing. No folder records (see `normalize`)."""


def keys_of(ctx: ConnectorContext) -> S3Keys:
    """The credential's keys and region from `providerData` (checked when it was imported).

    Raises:
        CredentialRevoked: they are missing or malformed; new keys must be imported.
    """
    try:
        return S3Keys.model_validate(dict(ctx.provider_data))
    except ValidationError as exc:
        names = ", ".join(
            f"providerData.{'.'.join(str(p) for p in e['loc'])}" for e in exc.errors()
        )
        raise CredentialRevoked(
            f"The S3 credential's keys are unusable ({names}); import one with accessKeyId, "
            "secretAccessKey and region in providerData."
        ) from None


def _origin(url: str, region: str) -> str:
    """A configured origin with `{region}` (the default's) filled in."""
    return url.replace("{region}", region).rstrip("/")


def _signer(keys: S3Keys, service: str = "s3") -> SigV4:
    return SigV4(
        keys.access_key_id,
        keys.secret_access_key,
        keys.region,
        keys.session_token,
        service=service,
    )


class S3Connector:
    """Lists and downloads the objects of one bucket (all of it, a prefix, or chosen keys).

    Checkpoints: `{"token": str}`, S3's `NextContinuationToken` of the page listed next, for
    a bucket or a prefix; `{"index": int}` for `fileIds`.
    """

    def __init__(self, config: S3Config, ctx: ConnectorContext) -> None:
        keys = keys_of(ctx)
        self._config = config
        self._ctx = ctx
        self._auth = _signer(keys)
        self._origin = _origin(ctx.api_url, keys.region)
        self._bucket = config.bucket
        self._bucket_url = f"{self._origin}/{quote(config.bucket, safe='')}"
        self._scope = Scope(folder_id=config.folder_id, file_ids=frozenset(config.file_ids or ()))
        self._mime_types = frozenset(config.mime_types) if config.mime_types else None

    capabilities = CAPABILITIES

    @property
    def scope(self) -> Scope:
        return self._scope

    async def _list(self, params: Mapping[str, str]) -> httpx.Response:
        query = encode_query({"list-type": "2", "encoding-type": "url", **params})
        async with map_transport_errors():
            response = await self._ctx.http.get(
                f"{self._bucket_url}?{query}", auth=self._auth, follow_redirects=False
            )
        raise_for_s3(response, bucket=self._bucket)
        return response

    # -- listing ------------------------------------------------------------------------------

    async def start_cursor(self) -> str:
        """S3 has no change feed: nothing to take before a listing."""
        return RELIST_CURSOR

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every object in scope, a page per `ListObjectsV2` call; see the class docstring
        for the checkpoints.

        Raises:
            CursorInvalid: S3 refused the continuation token, or the checkpoint does not fit.
            UpstreamNotFound: the bucket does not exist (any more).
        """
        if self._config.file_ids is not None:
            return self._list_keys(self._config.file_ids, checkpoint)
        return self._list_prefix(checkpoint)

    async def _list_prefix(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        token: str | None = None
        if checkpoint is not None:
            value = checkpoint.get("token")
            if not isinstance(value, str) or not value:
                raise _invalid_checkpoint(checkpoint)
            token = value
        parse = partial(
            parse_listing, bucket=self._bucket, origin=self._origin, mime_types=self._mime_types
        )
        while True:
            params = {"max-keys": str(PAGE_SIZE)}
            if self._config.folder_id:
                params["prefix"] = self._config.folder_id
            if token is not None:
                params["continuation-token"] = token
            response = await self._list(params)
            truncated, next_token = listing_head(response.content)
            if truncated and (not next_token or next_token == token):
                raise UpstreamResponseError(
                    "S3 sent a truncated listing page without a new NextContinuationToken"
                )
            yield ListPage(
                items=[],
                checkpoint={"token": next_token} if truncated and next_token else None,
                unparsed=Unparsed(parse, response.content),
            )
            if not truncated:
                return
            token = next_token

    async def _list_keys(
        self, keys: list[str], checkpoint: Checkpoint | None
    ) -> AsyncIterator[ListPage]:
        """Each key is listed on its own (`prefix` = the key, one result): the record is the
        one a listing of the bucket would hold, and a key that is gone is no record."""
        start = 0
        if checkpoint is not None:
            index = checkpoint.get("index")
            if not isinstance(index, int) or isinstance(index, bool):
                raise _invalid_checkpoint(checkpoint)
            if not 0 <= index < len(keys):
                raise _invalid_checkpoint(checkpoint)
            start = index
        for first in range(start, len(keys), FILE_IDS_PER_PAGE):
            batch = keys[first : first + FILE_IDS_PER_PAGE]
            items: list[Upsert] = []
            for key in batch:
                response = await self._list({"prefix": key, "max-keys": "1"})
                for obj in parse_objects(response.content):
                    if obj.key == key and keep(obj, self._mime_types):
                        items.append(normalize_object(obj, self._bucket, self._origin))
            reached = first + len(batch)
            yield ListPage(
                items=items, checkpoint={"index": reached} if reached < len(keys) else None
            )

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """Nothing: S3 has no change feed (`ChangeStrategy.RELIST`), so the engine lists the
        bucket again on every run instead of asking this."""
        for _ in ():
            yield ChangePage(upserts=[], deletions=[], cursor=cursor)

    # -- content ------------------------------------------------------------------------------

    async def download(self, external_id: str) -> Download:
        """The object's bytes (`GetObject`), streamed as S3 sends them; `Content-Type` the
        object's own, or from the key's extension when it was stored without one.

        Raises:
            NotDownloadable: the key is a folder marker (it ends in `/`), or an archived
                object that was not restored.
            UpstreamNotFound: no such key (or bucket).
        """
        if is_folder_key(external_id):
            raise NotDownloadable(f"{external_id!r} is an S3 folder, which has no content")
        request = self._ctx.http.build_request(
            "GET", f"{self._bucket_url}/{encode_key(external_id)}"
        )
        async with map_transport_errors():
            response = await self._ctx.http.send(
                request, stream=True, auth=self._auth, follow_redirects=False
            )
        if not response.is_success:
            try:
                async with map_transport_errors():
                    await response.aread()
                raise_for_s3(response, bucket=self._bucket)
                raise UpstreamResponseError(
                    f"S3 answered HTTP {response.status_code} to GetObject",
                    status_code=response.status_code,
                )
            finally:
                await response.aclose()
        stored = response.headers.get("content-type", "").split(";")[0].strip().lower()
        media_type = (
            response.headers["content-type"]
            if stored and stored not in DEFAULT_CONTENT_TYPES
            else mime_type_of(external_id)
        )
        return Download(
            media_type=media_type,
            filename=external_id.rpartition("/")[2] or None,
            chunks=_mapped_chunks(response),
            close=response.aclose,
        )


async def _mapped_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async with map_transport_errors():
        async for chunk in response.aiter_raw():
            yield chunk


def _invalid_checkpoint(checkpoint: Checkpoint) -> CursorInvalid:
    return CursorInvalid(f"the listing checkpoint {checkpoint!r} does not fit this S3 sync")


async def identify(ctx: ConnectorContext) -> Identity:
    """Who the keys belong to: STS `GetCallerIdentity`, which every valid key may call (no
    IAM permission needed) and which refuses unknown keys, wrong secrets and expired session
    tokens. The identity's name is the caller's ARN; S3 keys have no email.

    Raises:
        CredentialRevoked: the keys are refused (an `UpstreamAuthError`, so the import is 422).
    """
    keys = keys_of(ctx)
    url = _origin(ctx.urls.get("sts", spec.extra_urls["sts"]), keys.region)
    body = encode_query({"Action": "GetCallerIdentity", "Version": "2011-06-15"}).encode()
    async with map_transport_errors():
        response = await ctx.http.post(
            f"{url}/",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            auth=_signer(keys, "sts"),
            follow_redirects=False,
        )
    raise_for_s3(response)
    arn = _xml_text(response.content, "Arn")
    return Identity(email=None, name=arn)


def _xml_text(raw: bytes, name: str) -> str | None:
    start, end = f"<{name}>".encode(), f"</{name}>".encode()
    _, found, tail = raw.partition(start)
    if not found:
        return None
    value, closed, _ = tail.partition(end)
    return value.decode(errors="replace") if closed and value else None


async def check(config: BaseModel, ctx: ConnectorContext) -> None:
    """At enable: the bucket exists, is in the credential's region, and the keys may list it
    (one `ListObjectsV2` of one key, under `folderId` when given).

    Raises:
        InvalidInput: naming `configuration.bucket` (no such bucket, another region, listing
            denied), or `credentialId` (the keys are refused).
    """
    if not isinstance(config, S3Config):
        config = S3Config.model_validate(config.model_dump(by_alias=True))
    connector = S3Connector(config, ctx)
    params = {"max-keys": "1"}
    if config.folder_id:
        params["prefix"] = config.folder_id
    try:
        await connector._list(params)
    except UpstreamNotFound as exc:
        raise invalid_configuration(
            "bucket", f"the bucket {config.bucket!r} does not exist ({exc})"
        ) from exc
    except BucketInOtherRegion as exc:
        raise invalid_configuration("bucket", str(exc)) from exc
    except UpstreamPermissionDenied as exc:
        raise invalid_configuration(
            "bucket", f"these keys may not list the bucket {config.bucket!r} ({exc})"
        ) from exc
    except CredentialRevoked as exc:
        raise InvalidInput(
            f"The credential's S3 keys are refused: {exc}",
            field="credentialId",
            code="CREDENTIAL_INVALID",
        ) from exc


def _build(config: BaseModel, ctx: ConnectorContext) -> S3Connector:
    if not isinstance(config, S3Config):
        config = S3Config.model_validate(config.model_dump(by_alias=True))
    return S3Connector(config, ctx)


spec = ConnectorSpec(
    integration="amazons3",
    pipelines=frozenset({"files"}),
    config_model=S3Config,
    default_api_url="https://s3.{region}.amazonaws.com",
    default_token_url="",  # keys, not OAuth: no token endpoint
    default_auth_url="",
    build=_build,
    capabilities=CAPABILITIES,
    identify=identify,
    check=check,
    extra_urls={"sts": "https://sts.{region}.amazonaws.com"},
    auth="keys",
    provider_data=S3Keys,
)

"""The S3 connector's pure parts: configuration and keys, key and query encoding, listing
pages to records, S3's errors to ours (and what the engine then decides), and what the signer
puts on a request. No sockets: requests go to `httpx.MockTransport`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from syncline.connectors.amazons3 import spec
from syncline.connectors.amazons3.config import S3Config, S3Keys
from syncline.connectors.amazons3.connector import RELIST_CURSOR, S3Connector
from syncline.connectors.amazons3.errors import BucketInOtherRegion, raise_for_s3
from syncline.connectors.amazons3.normalize import (
    listing_head,
    mime_type_of,
    parse_listing,
    parse_objects,
)
from syncline.connectors.amazons3.signing import SigV4, encode_key, encode_query
from syncline.connectors.base import ChangeStrategy, ConnectorContext
from syncline.connectors.instances import check_provider_data
from syncline.engine.outcome import classify
from syncline.engine.runner import EngineSettings
from syncline.errors import (
    CredentialRevoked,
    CursorInvalid,
    InvalidInput,
    NotDownloadable,
    SyncError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)

KEYS = {"accessKeyId": "AKIAEXAMPLE000000000", "secretAccessKey": "s3cr3t", "region": "eu-west-1"}


def _listing(*contents: str, encoded: bool = True, extra: str = "") -> bytes:
    entries = "".join(
        f"<Contents><Key>{key}</Key><LastModified>2024-05-02T10:53:43.000Z</LastModified>"
        f"<ETag>&quot;abc123&quot;</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass>"
        "</Contents>"
        for key in contents
    )
    encoding = "<EncodingType>url</EncodingType>" if encoded else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>docs</Name>{encoding}{extra}{entries}</ListBucketResult>"
    ).encode()


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        ({}, "bucket"),
        ({"bucket": "ab"}, "bucket"),
        ({"bucket": "has/slash"}, "bucket"),
        ({"bucket": "two..dots"}, "bucket"),
        ({"bucket": "-leading"}, "bucket"),
        ({"bucket": "docs", "fileIds": []}, "fileIds"),
        ({"bucket": "docs", "fileIds": ["A/"]}, "fileIds"),
        ({"bucket": "docs", "fileIds": ["é" * 600]}, "fileIds"),
        ({"bucket": "docs", "folderId": "x" * 1025}, "folderId"),
        ({"bucket": "docs", "folderId": "A/", "fileIds": ["A/a"]}, None),
        ({"bucket": "docs", "prefix": "A/"}, "prefix"),
    ],
)
def test_configurations_s3_cannot_take_are_refused_naming_the_key(configuration, field):
    """Each malformed configuration fails validation at the key at fault (None: the whole
    configuration, for two scopes at once)."""
    with pytest.raises(ValidationError) as caught:
        S3Config.model_validate(configuration)

    loc = caught.value.errors()[0]["loc"]
    assert field == (loc[0] if loc else None)


def test_a_configuration_keeps_keys_exactly_and_drops_repeats():
    """Keys keep their spaces and case; repeated keys and MIME types count once."""
    config = S3Config.model_validate(
        {
            "bucket": "Legacy_Bucket",
            "fileIds": [" a b+c ", " a b+c ", "x"],
            "mimeTypes": ["a/b"] * 2,
        }
    )

    assert [" a b+c ", "x"] == config.file_ids
    assert ["a/b"] == config.mime_types


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "auto"])
def test_regions_of_letters_digits_and_hyphens_are_keys(region):
    """AWS's regions (and an S3-compatible server's `auto`) are accepted."""
    assert region == S3Keys.model_validate({**KEYS, "region": region}).region


def test_missing_provider_data_is_refused_naming_every_key_and_no_secret():
    """The providerData check names each missing key, and never repeats a value given."""
    with pytest.raises(InvalidInput) as caught:
        check_provider_data(
            spec, {"accessKeyId": "AKIA0000", "sessionToken": "tok-secret"}, allow_private=False
        )

    assert "providerData.secretAccessKey" == caught.value.field
    assert "providerData.region" in caught.value.message
    assert "tok-secret" not in caught.value.message


def test_keys_never_show_their_secret_in_repr():
    """The secret and the session token stay out of `repr` (and so out of logs)."""
    keys = S3Keys.model_validate({**KEYS, "sessionToken": "tok"})

    assert "s3cr3t" not in repr(keys)
    assert "tok" not in repr(keys).replace("session_token", "")
    assert "s3cr3t" not in repr(SigV4("AKIA", "s3cr3t", "eu-west-1"))


# -- encoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("plain/key.txt", "plain/key.txt"),
        ("with space+plus.txt", "with%20space%2Bplus.txt"),
        ("ü/日本.md", "%C3%BC/%E6%97%A5%E6%9C%AC.md"),
        ("x/../y", "x/%2E%2E/y"),
        ("./a", "%2E/a"),
        ("a%b&c=d?e#f", "a%25b%26c%3Dd%3Fe%23f"),
        ("tilde~-_.", "tilde~-_."),
    ],
)
def test_keys_are_encoded_as_s3_canonicalizes_paths(key, path):
    """Everything but unreserved characters and `/` is percent-encoded; dot segments too."""
    assert path == encode_key(key)


def test_queries_are_sorted_and_strictly_encoded():
    """Keys sorted; `+`, `/`, `=` and spaces in values percent-encoded (continuation tokens
    hold them)."""
    assert "a=1&continuation-token=x%2By%2Fz%3D%3D&prefix=a%20b" == encode_query(
        {"prefix": "a b", "continuation-token": "x+y/z==", "a": "1"}
    )


# -- listings -----------------------------------------------------------------------------------


def test_url_encoded_keys_are_decoded_whether_spaces_are_plus_or_percent_20():
    """S3 writes a space as `+` and a plus as `%2B`; moto writes a space as `%20`: both read
    back as the key."""
    objects = parse_objects(_listing("a+b%2Bc.txt", "a%20b%2Bc/%C3%BC.txt"))

    assert ["a b+c.txt", "a b+c/ü.txt"] == [o.key for o in objects]


def test_keys_are_taken_as_they_are_without_encoding_type():
    """A server that ignored `encoding-type` sends keys as they are: nothing is decoded."""
    assert ["a+b%2B.txt"] == [o.key for o in parse_objects(_listing("a+b%2B.txt", encoded=False))]


def test_the_head_reads_truncation_and_the_unescaped_token():
    """`IsTruncated` and `NextContinuationToken` (XML-unescaped) come from the raw page."""
    page = _listing(
        "k",
        extra="<IsTruncated>true</IsTruncated><NextContinuationToken>a&amp;b=</NextContinuationToken>",
    )

    assert (True, "a&b=") == listing_head(page)
    assert (False, None) == listing_head(_listing("k", extra="<IsTruncated>false</IsTruncated>"))


@pytest.mark.parametrize("body", [b"<Error><Code>AccessDenied</Code></Error>", b"not xml"])
def test_a_page_that_is_not_a_listing_is_refused(body):
    """Anything but a ListBucketResult is the upstream's error, never an empty listing."""
    with pytest.raises(UpstreamResponseError):
        listing_head(body)
    with pytest.raises(UpstreamResponseError):
        parse_objects(body)


def test_a_listing_page_becomes_file_records():
    """Each object is a File record: the key, its last segment, the ETag as an ETAG hash,
    its prefix as parent; folder markers are skipped, `mimeTypes` filters by extension."""
    page = _listing("A/", "A/a%201.txt", "top.md")
    records = parse_listing(page, bucket="docs", origin="https://s3.eu-west-1.amazonaws.com")
    markdown = parse_listing(
        page, bucket="docs", origin="o", mime_types=frozenset({"text/markdown"})
    )
    data: dict[str, Any] = records[0].data

    assert ["A/a 1.txt", "top.md"] == [r.external_id for r in records]
    assert {
        "externalId": "A/a 1.txt",
        "name": "a 1.txt",
        "mimeType": "text/plain",
        "size": 42,
        "url": "https://s3.eu-west-1.amazonaws.com/docs/A/a%201.txt",
        "thumbnailUrl": None,
        "createdAt": None,
        "updatedAt": "2024-05-02T10:53:43.000Z",
        "hash": {"type": "ETAG", "value": "abc123"},
        "parentFolderId": "A/",
        "customFields": {"bucket": "docs", "etag": '"abc123"', "storageClass": "STANDARD"},
    } == data
    assert not records[0].is_folder
    assert ["top.md"] == [r.external_id for r in markdown]


def test_a_key_without_a_known_extension_is_octet_stream():
    """S3 lists no content type: without a telling extension the type is generic."""
    assert "application/octet-stream" == mime_type_of("README")
    assert "application/pdf" == mime_type_of("x/y.pdf")


# -- errors -------------------------------------------------------------------------------------


def _error(status: int, code: str = "", headers: dict[str, str] | None = None, **more: str):
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in more.items())
    body = f"<Error><Code>{code}</Code><Message>m</Message>{extra}</Error>" if code else ""
    return httpx.Response(status, content=body.encode(), headers=headers)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (_error(503, "SlowDown"), UpstreamRateLimited),
        (_error(429), UpstreamRateLimited),
        (_error(503, "ServiceUnavailable"), UpstreamUnavailable),
        (_error(500, "InternalError"), UpstreamUnavailable),
        (_error(400, "RequestTimeout"), UpstreamUnavailable),
        (_error(307, "TemporaryRedirect"), UpstreamUnavailable),
        (_error(403, "AccessDenied"), UpstreamPermissionDenied),
        (_error(403), UpstreamPermissionDenied),
        (_error(404, "NoSuchBucket"), UpstreamNotFound),
        (_error(404, "NoSuchKey"), UpstreamNotFound),
        (_error(404), UpstreamNotFound),
        (_error(403, "InvalidAccessKeyId"), CredentialRevoked),
        (_error(403, "SignatureDoesNotMatch"), CredentialRevoked),
        (_error(400, "ExpiredToken"), CredentialRevoked),
        (_error(400, "InvalidToken"), CredentialRevoked),
        (_error(403, "InvalidClientTokenId"), CredentialRevoked),
        (_error(403, "InvalidObjectState"), NotDownloadable),
        (_error(400, "InvalidArgument", ArgumentName="continuation-token"), CursorInvalid),
        (_error(400, "InvalidArgument", ArgumentName="max-keys"), UpstreamResponseError),
        (httpx.Response(400, content=b"<html>proxy</html>"), UpstreamResponseError),
    ],
)
def test_s3_errors_become_ours(response, expected):
    """Each S3 (or STS) error code maps to the exception the engine acts on."""
    with pytest.raises(expected) as caught:
        raise_for_s3(response)

    assert response.status_code == caught.value.status_code or expected is NotDownloadable


@pytest.mark.parametrize(
    "response",
    [
        _error(301, "PermanentRedirect", {"x-amz-bucket-region": "ap-south-1"}),
        _error(301, headers={"x-amz-bucket-region": "ap-south-1"}),
        _error(400, "AuthorizationHeaderMalformed", Region="ap-south-1"),
    ],
)
def test_a_bucket_in_another_region_names_that_region(response):
    """A 301 PermanentRedirect (header) or an AuthorizationHeaderMalformed (body) says where
    the bucket is; the message tells which providerData.region to use."""
    with pytest.raises(BucketInOtherRegion) as caught:
        raise_for_s3(response, bucket="docs")

    assert "ap-south-1" == caught.value.region
    assert "providerData.region is ap-south-1" in caught.value.message


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (_error(403, "AccessDenied"), "errored"),
        (_error(404, "NoSuchBucket"), "errored"),
        (_error(403, "InvalidAccessKeyId"), "errored"),
        (_error(403, "SignatureDoesNotMatch"), "errored"),
        (_error(400, "ExpiredToken"), "errored"),
        (_error(301, headers={"x-amz-bucket-region": "ap-south-1"}), "errored"),
        (_error(503, "SlowDown"), "rate_limited"),
        (_error(503, "ServiceUnavailable"), "retry"),
    ],
)
def test_the_engine_ends_terminal_s3_errors_and_retries_the_rest(response, kind):
    """What the engine decides on S3's errors at the first failure: refusals end the sync
    ERRORED at once (dead keys revoking the credential), throttling and outages are retried."""
    with pytest.raises(SyncError) as caught:
        raise_for_s3(response, bucket="docs")
    decision = classify(caught.value, failures=0, settings=EngineSettings())

    assert kind == decision.kind
    assert isinstance(caught.value, CredentialRevoked) == decision.revoke_credential


# -- the connector on a mock transport ---------------------------------------------------------


def _connector(answer, provider_data=None, api_url="https://s3.{region}.amazonaws.com", **config):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    ctx = ConnectorContext(
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        auth=httpx.Auth(),
        api_url=api_url,
        provider_data=provider_data or KEYS,
    )
    return S3Connector(S3Config.model_validate({"bucket": "docs", **config}), ctx), seen


async def test_each_request_is_signed_with_the_session_token_and_only_stable_headers():
    """Requests carry SigV4's headers and the session token; the signature covers the host and
    the `x-amz-*` headers, not the ones a proxy may change (User-Agent, Accept-Encoding)."""
    connector, seen = _connector(
        lambda r: httpx.Response(200, content=_listing("k")),
        {**KEYS, "sessionToken": "the-token"},
    )
    [page async for page in connector.list_all(None)]
    headers = seen[0].headers
    signed = headers["Authorization"].partition("SignedHeaders=")[2].partition(",")[0]

    assert "the-token" == headers["X-Amz-Security-Token"]
    assert "host;x-amz-content-sha256;x-amz-date;x-amz-security-token" == signed
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE000000000/")
    assert "/eu-west-1/s3/aws4_request" in headers["Authorization"]


async def test_an_overriding_origin_is_used_path_style():
    """`SYNCLINE_AMAZONS3_API_URL` (here an S3-compatible server) is the origin, the bucket
    the path's first segment; the listing asks for URL-encoded keys, 1000 at a time."""
    connector, seen = _connector(
        lambda r: httpx.Response(200, content=_listing()), api_url="http://127.0.0.1:9000"
    )
    [page async for page in connector.list_all(None)]

    assert "http://127.0.0.1:9000/docs?encoding-type=url&list-type=2&max-keys=1000" == str(
        seen[0].url
    )


async def test_s3_has_no_change_feed():
    """RELIST: the engine lists on every run; `changes` yields nothing and the cursor is a
    fixed marker."""
    connector, seen = _connector(lambda r: httpx.Response(500))

    assert ChangeStrategy.RELIST is connector.capabilities.changes
    assert connector.capabilities is spec.capabilities
    assert RELIST_CURSOR == await connector.start_cursor()
    assert [] == [page async for page in connector.changes(RELIST_CURSOR)]
    assert [] == seen


async def test_a_folder_marker_has_no_content():
    """Downloading a key that ends in `/` is NotDownloadable, without asking S3."""
    connector, seen = _connector(lambda r: httpx.Response(500))

    with pytest.raises(NotDownloadable):
        await connector.download("A/")
    assert [] == seen


async def test_a_checkpoint_that_does_not_fit_is_a_cursor_error():
    """A checkpoint without a continuation token (or an index for fileIds) is CursorInvalid,
    which makes the engine list again from the start."""
    connector, _ = _connector(lambda r: httpx.Response(200, content=_listing()))
    keys, _ = _connector(lambda r: httpx.Response(200, content=_listing()), fileIds=["a"])

    with pytest.raises(CursorInvalid):
        [page async for page in connector.list_all({"index": 3})]
    with pytest.raises(CursorInvalid):
        [page async for page in keys.list_all({"token": "x"})]


async def test_unusable_keys_revoke_at_build():
    """A credential whose providerData lost its keys cannot build a connector: it is revoked
    (never retried), naming what is missing."""
    with pytest.raises(CredentialRevoked, match=r"providerData\.secretAccessKey"):
        _connector(lambda r: httpx.Response(200), {"accessKeyId": "AKIA", "region": "us-east-1"})

"""Signs S3 requests with Signature Version 4 through botocore's signer, as an `httpx.Auth`.

The signature covers the method, the path, the query string, the host and the `x-amz-*`
headers, exactly as they go on the wire. So paths and query strings are encoded here once, the
way S3 canonicalizes them (RFC 3986 unreserved characters kept, everything else
percent-encoded, `/` kept in keys), and httpx sends them as given.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from urllib.parse import quote

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = ["SigV4", "encode_key", "encode_query"]

_SIGNED_EXTRA = frozenset({"content-md5", "content-type"})
"""Headers signed besides `host` and `x-amz-*` when a request carries them."""


def encode_key(key: str) -> str:
    """An object key as a URL path (after the bucket): every character but the unreserved ones
    and `/` percent-encoded, so `+`, spaces and unicode reach S3 as they are in the key. A
    segment that is `.` or `..` is encoded too, or URL normalization would remove it."""
    segments = []
    for segment in key.split("/"):
        if segment in (".", ".."):
            segments.append(segment.replace(".", "%2E"))
        else:
            segments.append(quote(segment, safe="-_.~"))
    return "/".join(segments)


def encode_query(params: Mapping[str, str]) -> str:
    """A query string in SigV4's canonical form: keys sorted, keys and values percent-encoded
    but for the unreserved characters (a `continuation-token` holds `+`, `/` and `=`)."""
    return "&".join(
        f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}"
        for key, value in sorted(params.items())
    )


class SigV4(httpx.Auth):
    """Signs each request for S3 in `region` with an access key, and a session token when the
    keys are temporary (`X-Amz-Security-Token`).

    botocore's `S3SigV4Auth` does the signing (it leaves S3 paths as they are, where plain
    SigV4 would encode them again, and adds `X-Amz-Content-SHA256`); this class only carries
    the request over to botocore's form and the signature headers back.
    """

    requires_request_body = True
    """The payload's SHA-256 is part of the signature (over plain HTTP; over HTTPS too, for
    bodies without a Content-MD5)."""

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        region: str,
        session_token: str | None = None,
        *,
        service: str = "s3",
    ) -> None:
        self._signer = S3SigV4Auth(
            Credentials(access_key_id, secret_access_key, session_token), service, region
        )

    def __repr__(self) -> str:
        return "SigV4(...)"  # never show the keys

    def sign(self, request: httpx.Request) -> None:
        """Add `Authorization`, `X-Amz-Date`, `X-Amz-Content-SHA256` (and the session token)
        to `request`, whose body must be in memory."""
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower().startswith("x-amz-") or name.lower() in _SIGNED_EXTRA
        }
        aws = AWSRequest(
            method=request.method,
            url=str(request.url),
            headers={**headers, "host": request.url.netloc.decode("ascii")},
            data=request.content,
        )
        self._signer.add_auth(aws)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"):
            value = aws.headers.get(name)
            if value is not None:
                request.headers[name] = value

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self.sign(request)
        yield request

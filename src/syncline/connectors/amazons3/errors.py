"""Turns S3's (and STS's) XML error responses into Syncline's upstream exceptions: the one place
S3's error codes are read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import httpx

from syncline.connectors.http import parse_retry_after
from syncline.errors import (
    ConfigError,
    CredentialRevoked,
    CursorInvalid,
    NotDownloadable,
    UpstreamAuthError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)

__all__ = [
    "CREDENTIAL_CODES",
    "BucketInOtherRegion",
    "S3Error",
    "parse_error",
    "raise_for_s3",
]

CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",  # STS's name for an unknown access key
    }
)
"""The keys themselves are refused: no retry helps, new keys must be imported."""
DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidPayer"})
RATE_CODES = frozenset({"SlowDown", "RequestLimitExceeded", "Throttling", "ThrottlingException"})
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "TemporaryRedirect",
        "OperationAborted",
    }
)
REGION_CODES = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
)
"""The bucket lives in another region than the credential's."""


class BucketInOtherRegion(ConfigError):
    """The bucket is in another region than the one the credential names."""

    def __init__(self, message: str, *, region: str | None) -> None:
        super().__init__(message)
        self.region = region


@dataclass(frozen=True, slots=True)
class S3Error:
    """S3's `<Error><Code/><Message/><RequestId/>...</Error>` (STS wraps it in
    `<ErrorResponse>`); empty strings for what the body lacks (a HEAD has no body)."""

    code: str = ""
    message: str = ""
    request_id: str = ""
    region: str = ""
    argument: str = ""

    def describe(self, status_code: int) -> str:
        code = f" ({self.code})" if self.code else ""
        message = f": {self.message}" if self.message else ""
        request = f" [request {self.request_id}]" if self.request_id else ""
        return f"S3 answered HTTP {status_code}{code}{message}{request}"


def parse_error(response: httpx.Response) -> S3Error:
    """The error in the body; tolerant of bodies that are empty, HTML or not S3's."""
    if not response.content:
        return S3Error()
    try:
        # Python's expat (2.4.1 and later) refuses entity amplification and never fetches
        # external entities, which are what makes XML from a server dangerous to parse.
        root = ET.fromstring(response.content)  # noqa: S314
    except ET.ParseError:
        return S3Error(message=response.text.strip()[:200])
    found: dict[str, str] = {}
    for element in root.iter():
        name = element.tag.rpartition("}")[2]
        if name not in found and element.text:
            found[name] = element.text.strip()
    return S3Error(
        code=found.get("Code", ""),
        message=found.get("Message", ""),
        request_id=found.get("RequestId", ""),
        region=found.get("Region", ""),
        argument=found.get("ArgumentName", ""),
    )


def raise_for_s3(response: httpx.Response, *, bucket: str | None = None) -> None:
    """Return on a 2xx; otherwise raise the Syncline exception that matches S3's error.

    The body must have been read (call `aread()` first on a streamed response).

    Raises:
        UpstreamRateLimited: 503 `SlowDown` (or a 429), with its `Retry-After` when given.
        UpstreamUnavailable: other 5xx, `RequestTimeout`, `TemporaryRedirect`.
        CredentialRevoked: `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `ExpiredToken`,
            `InvalidToken`: the keys are refused, the user must import new ones.
        BucketInOtherRegion: 301 `PermanentRedirect` (the bucket's region in
            `x-amz-bucket-region`), or `AuthorizationHeaderMalformed` naming a region.
        UpstreamPermissionDenied: `AccessDenied` and other 403s.
        UpstreamNotFound: 404: `NoSuchBucket`, `NoSuchKey`.
        NotDownloadable: `InvalidObjectState`, an archived object (Glacier) not restored.
        CursorInvalid: a `continuation-token` S3 no longer takes.
        UpstreamAuthError: a 401.
        UpstreamResponseError: anything else.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    error = parse_error(response)
    message = error.describe(status)
    code = error.code
    if code in RATE_CODES or status == 429:
        raise UpstreamRateLimited(
            message,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
        )
    if code in CREDENTIAL_CODES:
        raise CredentialRevoked(
            f"{message}. The access key is refused; import a credential with working keys.",
            status_code=status,
        )
    if code in REGION_CODES or status == 301:
        region = response.headers.get("x-amz-bucket-region") or error.region or None
        where = f"in the region {region}" if region else "in another region"
        raise BucketInOtherRegion(
            f"The bucket {bucket or ''} is {where}, not the credential's: import a credential "
            f"whose providerData.region is {region or 'the bucket region'}. ({message})",
            region=region,
        )
    if status >= 500 or code in TRANSIENT_CODES or status == 307:
        raise UpstreamUnavailable(message, status_code=status)
    if code == "InvalidObjectState":
        raise NotDownloadable(f"{message}: restore the archived object first")
    if status == 401:
        raise UpstreamAuthError(message, status_code=status)
    if status == 403 or code in DENIED_CODES:
        raise UpstreamPermissionDenied(message, status_code=status)
    if status == 404:
        raise UpstreamNotFound(message, status_code=status)
    if code == "InvalidArgument" and error.argument == "continuation-token":
        raise CursorInvalid(message, status_code=status)
    raise UpstreamResponseError(message, status_code=status)

"""Google Drive error responses become Syncline's upstream exceptions."""

from datetime import timedelta

import httpx
import pytest

from syncline.connectors.googledrive.errors import raise_for_drive
from syncline.errors import (
    CursorInvalid,
    NotDownloadable,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)


def drive_error(status, reason, message, *, location=None, domain="global", headers=None):
    """A response in Drive's error envelope."""
    detail = {"domain": domain, "reason": reason, "message": message}
    if location is not None:
        detail |= {"location": location, "locationType": "parameter"}
    body = {"error": {"code": status, "message": message, "errors": [detail]}}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize("status", [200, 204, 206])
def test_success_passes(status):
    """A 2xx response raises nothing."""
    raise_for_drive(httpx.Response(status))


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(
            drive_error(
                403, "userRateLimitExceeded", "User Rate Limit Exceeded", domain="usageLimits"
            ),
            UpstreamRateLimited,
            id="403-userRateLimitExceeded",
        ),
        pytest.param(
            drive_error(403, "rateLimitExceeded", "Rate Limit Exceeded"),
            UpstreamRateLimited,
            id="403-rateLimitExceeded",
        ),
        pytest.param(
            drive_error(403, "sharingRateLimitExceeded", "Sharing Rate Limit Exceeded"),
            UpstreamRateLimited,
            id="403-sharingRateLimitExceeded",
        ),
        pytest.param(
            drive_error(429, "rateLimitExceeded", "Too Many Requests"),
            UpstreamRateLimited,
            id="429",
        ),
        pytest.param(
            drive_error(
                403,
                "fileNotDownloadable",
                "Only files with binary content can be downloaded. "
                "Use Export with Docs Editors files.",
                location="alt",
            ),
            NotDownloadable,
            id="403-fileNotDownloadable",
        ),
        pytest.param(
            drive_error(403, "fileNotExportable", "Export only supports Docs Editors files."),
            NotDownloadable,
            id="403-fileNotExportable",
        ),
        pytest.param(
            drive_error(
                403,
                "insufficientFilePermissions",
                "The user does not have sufficient permissions for this file.",
            ),
            UpstreamPermissionDenied,
            id="403-insufficientFilePermissions",
        ),
        pytest.param(
            drive_error(403, "domainPolicy", "The domain administrators have disabled Drive apps."),
            UpstreamPermissionDenied,
            id="403-domainPolicy",
        ),
        pytest.param(
            drive_error(403, "exportSizeLimitExceeded", "This file is too large to be exported."),
            UpstreamPermissionDenied,
            id="403-exportSizeLimitExceeded",
        ),
        pytest.param(
            drive_error(
                403, "downloadQuotaExceeded", "The download quota for this file has been exceeded."
            ),
            UpstreamPermissionDenied,
            id="403-downloadQuotaExceeded",
        ),
        pytest.param(
            drive_error(401, "authError", "Invalid Credentials", location="Authorization"),
            UpstreamAuthError,
            id="401",
        ),
        pytest.param(
            drive_error(404, "notFound", "File not found: 1AbCdEf.", location="fileId"),
            UpstreamNotFound,
            id="404",
        ),
        pytest.param(
            drive_error(400, "invalid", "Invalid Value", location="pageToken"),
            CursorInvalid,
            id="400-pageToken",
        ),
        pytest.param(
            drive_error(400, "badRequest", "Bad Request", location="orderBy"),
            UpstreamResponseError,
            id="400-other-parameter",
        ),
        pytest.param(
            drive_error(410, "deleted", "Gone"),
            UpstreamResponseError,
            id="410",
        ),
        pytest.param(
            drive_error(500, "backendError", "Backend Error"),
            UpstreamUnavailable,
            id="500",
        ),
        pytest.param(
            httpx.Response(502, text="<html><body>Bad Gateway</body></html>"),
            UpstreamUnavailable,
            id="502-html",
        ),
        pytest.param(
            httpx.Response(503),
            UpstreamUnavailable,
            id="503-empty",
        ),
        pytest.param(
            httpx.Response(403, text="Forbidden"),
            UpstreamPermissionDenied,
            id="403-not-json",
        ),
        pytest.param(
            httpx.Response(400, json={"error": "invalid_request"}),
            UpstreamResponseError,
            id="400-string-error",
        ),
        pytest.param(
            httpx.Response(400, json=["not", "an", "object"]),
            UpstreamResponseError,
            id="400-json-array",
        ),
        pytest.param(
            httpx.Response(304),
            UpstreamResponseError,
            id="304",
        ),
    ],
)
def test_status_and_reason_pick_the_exception(response, expected):
    """Each Drive status and reason maps to the exception in the table, with its status code."""
    with pytest.raises(UpstreamError) as caught:
        raise_for_drive(response)

    assert (expected, response.status_code) == (type(caught.value), caught.value.status_code)


def test_403_rate_limit_is_retryable_but_403_permission_is_not():
    """A 403 rate limit may be retried; a 403 permission denial may not."""
    expected = (True, False)

    with pytest.raises(UpstreamError) as rate:
        raise_for_drive(drive_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded"))
    with pytest.raises(UpstreamError) as denied:
        raise_for_drive(drive_error(403, "insufficientFilePermissions", "No access"))

    assert expected == (rate.value.retryable, denied.value.retryable)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            drive_error(429, "rateLimitExceeded", "Slow down", headers={"Retry-After": "7"}),
            timedelta(seconds=7),
        ),
        (
            drive_error(403, "userRateLimitExceeded", "Slow", headers={"Retry-After": "30"}),
            timedelta(seconds=30),
        ),
        (drive_error(403, "userRateLimitExceeded", "Slow"), None),
        (httpx.Response(429, text="busy", headers={"Retry-After": "2"}), timedelta(seconds=2)),
    ],
)
def test_rate_limit_carries_retry_after(response, expected):
    """The Retry-After header becomes `retry_after`; without it, the engine picks the delay."""
    with pytest.raises(UpstreamRateLimited) as caught:
        raise_for_drive(response)

    assert expected == caught.value.retry_after


def test_message_names_drive_reason_and_message():
    """The exception message quotes Drive's reason and message."""
    expected = (
        "Google Drive answered HTTP 403 (insufficientFilePermissions): "
        "The user does not have sufficient permissions."
    )

    with pytest.raises(UpstreamPermissionDenied) as caught:
        raise_for_drive(
            drive_error(
                403, "insufficientFilePermissions", "The user does not have sufficient permissions."
            )
        )

    assert expected == str(caught.value)


def test_non_json_body_is_quoted_in_the_message():
    """A body that is not JSON still yields a readable message."""
    expected = "Google Drive answered HTTP 502: Bad Gateway"

    with pytest.raises(UpstreamUnavailable) as caught:
        raise_for_drive(httpx.Response(502, text="Bad Gateway"))

    assert expected == str(caught.value)

"""Turns Confluence's error answers (the gateway's, v2's and v1's envelopes) into Syncline's
upstream exceptions: Atlassian's translation (`connectors.atlassian.errors`), named for
Confluence."""

from __future__ import annotations

import httpx

from syncline.connectors.atlassian.errors import raise_for_atlassian

__all__ = ["PRODUCT", "raise_for_confluence"]

PRODUCT = "Confluence"


def raise_for_confluence(response: httpx.Response) -> None:
    """Return on a 2xx; otherwise raise as `raise_for_atlassian` does.

    Raises:
        UpstreamRateLimited: 429 (or 503 with `Retry-After`), with the wait asked for.
        UpstreamPermissionDenied: 403, or a 401 naming a scope the grant lacks.
        UpstreamAuthError: any other 401, after the auth flow's one refresh.
        UpstreamNotFound: 404: a space or page that is gone, trashed, or hidden from the user.
        CursorInvalid: 400 refusing a `cursor`.
        UpstreamUnavailable: any other 5xx.
        UpstreamResponseError: any other 4xx.
    """
    raise_for_atlassian(response, PRODUCT)

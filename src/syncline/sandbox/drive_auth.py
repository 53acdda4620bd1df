"""Google's OAuth 2.0 token endpoint, in memory: grants, access tokens, refresh and revocation."""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from syncline.types import JSONObject

__all__ = ["DIRECTORY_SCOPES", "DRIVE_SCOPE", "DRIVE_SCOPES", "REPORTS_SCOPE", "OAuthGrants"]

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
DRIVE_SCOPES = frozenset(
    f"https://www.googleapis.com/auth/{name}"
    for name in (
        "drive",
        "drive.readonly",
        "drive.file",
        "drive.metadata",
        "drive.metadata.readonly",
        "drive.appdata",
        "drive.apps.readonly",
        "drive.photos.readonly",
    )
)
"""Any of these lets a token call Drive v3 (`about.get` accepts each); without one Drive answers
403 `insufficientPermissions`."""

DIRECTORY_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/admin.directory.group.readonly",
        "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
        "https://www.googleapis.com/auth/admin.directory.group",
        "https://www.googleapis.com/auth/admin.directory.group.member",
    }
)
"""Any of these lets a token read group members through the Admin SDK Directory API."""

REPORTS_SCOPE = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
"""Lets a token read the Admin Reports API's activities (group membership changes among them)."""


@dataclass(slots=True)
class _Grant:
    user: str
    refresh_token: str
    scopes: tuple[str, ...] = (DRIVE_SCOPE,)


class OAuthGrants:
    """One OAuth client and the grants users gave it.

    Revoking a grant also kills the access tokens minted from it, as Google does.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.rotate_refresh_tokens = False
        self._clock = clock
        self._grants_by_refresh: dict[str, _Grant] = {}
        self._access: dict[str, tuple[_Grant, float]] = {}
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()

    def issue_tokens(self, user: str, scopes: Iterable[str] = (DRIVE_SCOPE,)) -> tuple[str, str]:
        """Register a grant for `user` with `scopes`; return (access_token, refresh_token)."""
        with self._lock:
            grant = _Grant(user, "1//sandbox-" + secrets.token_urlsafe(24), tuple(scopes))
            self._grants_by_refresh[grant.refresh_token] = grant
            return self._mint(grant), grant.refresh_token

    def revoke(self, refresh_token: str) -> None:
        """The user removed the app: the grant and its access tokens stop working."""
        with self._lock:
            grant = self._grants_by_refresh.pop(refresh_token, None)
            if grant is not None:
                self._access = {t: v for t, v in self._access.items() if v[0] is not grant}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is rejected from now on."""
        with self._lock:
            self._access.clear()

    def expire_access_token(self, access_token: str) -> None:
        """This one access token is rejected from now on (its grant lives on)."""
        with self._lock:
            self._access.pop(access_token, None)

    def user_for(self, access_token: str) -> str | None:
        """The user an unexpired access token belongs to."""
        found = self.grant_for(access_token)
        return None if found is None else found[0]

    def grant_for(self, access_token: str) -> tuple[str, frozenset[str]] | None:
        """(user, scopes) of an unexpired access token."""
        with self._lock:
            entry = self._access.get(access_token)
        if entry is None or self._clock() >= entry[1]:
            return None
        return entry[0].user, frozenset(entry[0].scopes)

    def authorize(
        self,
        user: str,
        redirect_uri: str | None,
        scopes: Iterable[str] = (DRIVE_SCOPE,),
        *,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """Consent screen done: an authorization code for `user`, granting `scopes`; with a
        PKCE `code_challenge` (`S256` or `plain`), the exchange must show its verifier."""
        code = "4/sandbox-" + secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = _Code(
                user, redirect_uri, tuple(scopes), code_challenge, code_challenge_method
            )
        return code

    def token_endpoint(
        self, form: Mapping[str, str], basic: tuple[str, str] | None
    ) -> tuple[int, JSONObject]:
        """Answer one `POST /token`: (HTTP status, JSON body) in Google's shapes."""
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        if client_id != self.client_id:
            return 401, _oauth_error("invalid_client", "The OAuth client was not found.")
        if client_secret != self.client_secret:
            return 401, _oauth_error("invalid_client", "Unauthorized")
        grant_type = form.get("grant_type", "")
        with self._lock:
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""))
            if grant_type == "authorization_code":
                return self._exchange(
                    form.get("code", ""), form.get("redirect_uri"), form.get("code_verifier")
                )
        return 400, _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _refresh(self, refresh_token: str) -> tuple[int, JSONObject]:
        grant = self._grants_by_refresh.get(refresh_token)
        if grant is None:
            return 400, _oauth_error("invalid_grant", "Token has been expired or revoked.")
        body = self._token_body(grant)
        if self.rotate_refresh_tokens:
            # Single-use refresh tokens: the old one dies the moment a new one is issued.
            del self._grants_by_refresh[refresh_token]
            grant.refresh_token = "1//sandbox-" + secrets.token_urlsafe(24)
            self._grants_by_refresh[grant.refresh_token] = grant
            body["refresh_token"] = grant.refresh_token
        return 200, body

    def _exchange(
        self, code: str, redirect_uri: str | None, verifier: str | None
    ) -> tuple[int, JSONObject]:
        entry = self._codes.pop(code, None)  # a code works once
        if entry is None:
            return 400, _oauth_error("invalid_grant", "Malformed auth code.")
        if entry.redirect_uri is not None and redirect_uri != entry.redirect_uri:
            return 400, _oauth_error("redirect_uri_mismatch", "Bad Request")
        if entry.challenge is not None and not _verifies(entry, verifier):
            return 400, _oauth_error("invalid_grant", "Invalid code verifier.")
        grant = _Grant(entry.user, "1//sandbox-" + secrets.token_urlsafe(24), entry.scopes)
        self._grants_by_refresh[grant.refresh_token] = grant
        body = self._token_body(grant)
        body["refresh_token"] = grant.refresh_token
        return 200, body

    def _token_body(self, grant: _Grant) -> JSONObject:
        # Google reports one second less than the real lifetime (3599 for an hour).
        return {
            "access_token": self._mint(grant),
            "expires_in": max(1, math.ceil(self.token_ttl) - 1),
            "scope": " ".join(grant.scopes),  # space separated, as Google sends them
            "token_type": "Bearer",
        }

    def _mint(self, grant: _Grant) -> str:
        token = "ya29.sandbox-" + secrets.token_urlsafe(32)
        self._access[token] = (grant, self._clock() + self.token_ttl)
        return token


@dataclass(frozen=True, slots=True)
class _Code:
    user: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    challenge: str | None
    method: str | None


def _verifies(code: _Code, verifier: str | None) -> bool:
    """RFC 7636: `S256` is the unpadded base64url SHA-256 of the verifier; `plain` itself."""
    if verifier is None:
        return False
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == code.challenge
    return verifier == code.challenge


def _oauth_error(code: str, description: str) -> JSONObject:
    return {"error": code, "error_description": description}

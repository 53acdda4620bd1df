"""Atlassian's OAuth 2.0 (3LO) authorization server (`https://auth.atlassian.com`), in memory.

What it does, and where each rule comes from:

- `POST /oauth/token` takes the documented JSON body (`grant_type`, `client_id`,
  `client_secret`, and `code` + `redirect_uri` or `refresh_token`); a form body is accepted too,
  since the server behind it is Auth0's, which takes both (GUESS: not stated by Atlassian).
  Answer: `{access_token, expires_in, token_type: "Bearer", scope, refresh_token?}`
  (developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens).
- A refresh token is issued only when the grant includes `offline_access` ("To get a refresh
  token in your initial authorization flow, add offline_access to the scope parameter").
- **Rotating refresh tokens** (the same page, and its table of limits): every refresh returns
  a new refresh token; the old refresh token and the access token issued with it (its
  "companion") keep working for a **10-minute reuse interval (leeway)** and are then revoked
  (Atlassian staff, community.developer.atlassian.com/t/83103: "the old access and refresh
  tokens will enter a 10-minutes grace period ... before they are marked as revoked"). Within
  the leeway the old refresh token may be exchanged again (concurrent workers both succeed).
  After it, "breach detection" applies (the table points at Auth0's automatic reuse detection):
  reusing a rotated-out refresh token revokes the **whole token family**, so every token of the
  grant stops working and the user must consent again (inferred from that pointer to Auth0's
  behaviour, not stated outright by Atlassian: GUESS; `reuse_detection=False` turns it off).
- Inactivity expiry **90 days** (each rotation resets it) and absolute expiry **365 days** for
  the family (the same table; the 90 days as Atlassian and jira.js state them).
- A dead refresh token: **403** `{"error": "invalid_grant", "error_description": "Unknown or
  invalid refresh token."}` (the 3LO page's FAQ, verbatim).
- Wrong client credentials: 401 `{"error": "access_denied", "error_description":
  "Unauthorized"}` (jira.js documents `access_denied` for a wrong secret; the status and
  description are GUESSES). The other errors (bad code, redirect mismatch, unsupported grant,
  missing parameter) follow Auth0's forms and are GUESSES.
- Access tokens live 3600 s (`expires_in: 3600`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from syncline.types import JSONObject

__all__ = [
    "ABSOLUTE_EXPIRY",
    "INACTIVITY_EXPIRY",
    "REUSE_LEEWAY",
    "AtlassianGrants",
]

REUSE_LEEWAY = 600.0
"""Seconds a rotated-out refresh token (and its companion access token) still work."""
INACTIVITY_EXPIRY = 90 * 86400.0
ABSOLUTE_EXPIRY = 365 * 86400.0
OFFLINE_ACCESS = "offline_access"

_ACCESS_PREFIX = "eyJraWQiOiJzYm94LWEifQ."  # Atlassian's tokens are JWTs; clients must not parse
_REFRESH_PREFIX = "eyJraWQiOiJzYm94LXIifQ."
_DEAD_REFRESH = "Unknown or invalid refresh token."


@dataclass(eq=False, slots=True)
class _Family:
    """One consent: every token descended from one authorization code."""

    user: str
    scopes: tuple[str, ...]
    started: float
    revoked: bool = False


@dataclass(eq=False, slots=True)
class _Refresh:
    family: _Family
    issued: float
    companion: str
    """The access token issued with this refresh token."""
    rotated_at: float | None = None
    """When it was first exchanged (it dies `REUSE_LEEWAY` later)."""


@dataclass(eq=False, slots=True)
class _Access:
    family: _Family
    expires: float
    refresh: str | None
    """The companion refresh token, whose rotation ends this token early."""


@dataclass(frozen=True, slots=True)
class _Code:
    user: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    challenge: str | None
    method: str | None


@dataclass(eq=False)
class AtlassianGrants:
    """One OAuth client (app) of the fake and the grants users gave it."""

    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    token_ttl: float = 3600.0
    clock: Callable[[], float] = time.time
    leeway: float = REUSE_LEEWAY
    inactivity_expiry: float = INACTIVITY_EXPIRY
    absolute_expiry: float = ABSOLUTE_EXPIRY
    reuse_detection: bool = True
    """Whether reusing a rotated-out refresh token after the leeway revokes its family."""
    refreshes: int = field(default=0, init=False)
    """Successful refresh grants so far (tests count concurrent refreshes with it)."""
    _refresh: dict[str, _Refresh] = field(default_factory=dict, init=False)
    _access: dict[str, _Access] = field(default_factory=dict, init=False)
    _codes: dict[str, _Code] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    # -- issuing ------------------------------------------------------------------------------

    def issue(self, user: str, scopes: Iterable[str]) -> tuple[str, str | None]:
        """A fresh grant for `user`: (access token, refresh token or None without
        `offline_access`)."""
        with self._lock:
            family = _Family(user, tuple(scopes), self.clock())
            return self._pair(family)

    def authorize(
        self,
        user: str,
        redirect_uri: str | None,
        scopes: Iterable[str],
        *,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """Consent given: a single-use authorization code."""
        code = secrets.token_urlsafe(24)
        method = code_challenge_method or ("plain" if code_challenge else None)
        with self._lock:
            self._codes[code] = _Code(user, redirect_uri, tuple(scopes), code_challenge, method)
        return code

    def _pair(self, family: _Family) -> tuple[str, str | None]:
        now = self.clock()
        access = _ACCESS_PREFIX + secrets.token_urlsafe(40)
        refresh = None
        if OFFLINE_ACCESS in family.scopes:
            refresh = _REFRESH_PREFIX + secrets.token_urlsafe(40)
            self._refresh[refresh] = _Refresh(family, now, access)
        self._access[access] = _Access(family, now + self.token_ttl, refresh)
        return access, refresh

    # -- reading ------------------------------------------------------------------------------

    def grant_for(self, access_token: str) -> tuple[str, frozenset[str]] | None:
        """(user, scopes) of a live access token."""
        with self._lock:
            entry = self._access.get(access_token)
            if entry is None or entry.family.revoked:
                return None
            now = self.clock()
            if now >= entry.expires:
                return None
            companion = self._refresh.get(entry.refresh) if entry.refresh else None
            rotated = companion.rotated_at if companion is not None else None
            if rotated is not None and now > rotated + self.leeway:
                return None
            return entry.family.user, frozenset(entry.family.scopes)

    def user_for(self, access_token: str) -> str | None:
        found = self.grant_for(access_token)
        return None if found is None else found[0]

    # -- knobs --------------------------------------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused from now on (refresh tokens live)."""
        with self._lock:
            for entry in self._access.values():
                entry.expires = min(entry.expires, self.clock())

    def expire_access_token(self, access_token: str) -> None:
        with self._lock:
            entry = self._access.get(access_token)
            if entry is not None:
                entry.expires = min(entry.expires, self.clock())

    def revoke_user(self, user: str) -> None:
        """The user removed the app (or changed their password): all their grants die."""
        with self._lock:
            for entry in self._access.values():
                if entry.family.user == user:
                    entry.family.revoked = True

    # -- the token endpoint -------------------------------------------------------------------

    def token_endpoint(self, body: Mapping[str, str]) -> tuple[int, JSONObject]:
        """Answer one `POST /oauth/token`: (HTTP status, JSON body)."""
        if body.get("client_id") != self.client_id or body.get("client_secret") != (
            self.client_secret
        ):
            return 401, _error("access_denied", "Unauthorized")
        grant_type = body.get("grant_type", "")
        with self._lock:
            if grant_type == "authorization_code":
                return self._exchange(body)
            if grant_type == "refresh_token":
                return self._rotate(body.get("refresh_token", ""))
        if not grant_type:
            return 400, _error("invalid_request", "Missing required parameter: grant_type")
        return 403, _error("unsupported_grant_type", f"Unsupported grant type: {grant_type}")

    def _exchange(self, body: Mapping[str, str]) -> tuple[int, JSONObject]:
        if not body.get("code"):
            return 400, _error("invalid_request", "Missing required parameter: code")
        code = self._codes.pop(body["code"], None)  # a code works once
        if code is None:
            return 403, _error("invalid_grant", "Invalid authorization code")
        if code.redirect_uri is not None and body.get("redirect_uri") != code.redirect_uri:
            return 403, _error("invalid_grant", "The redirect_uri does not match")
        if code.challenge is not None and not _verifies(code, body.get("code_verifier")):
            return 403, _error("invalid_grant", "Failed to verify code verifier")
        family = _Family(code.user, code.scopes, self.clock())
        return 200, self._answer(family)

    def _rotate(self, token: str) -> tuple[int, JSONObject]:
        entry = self._refresh.get(token)
        now = self.clock()
        if entry is None or entry.family.revoked:
            return 403, _error("invalid_grant", _DEAD_REFRESH)
        family = entry.family
        if now > family.started + self.absolute_expiry or now > entry.issued + (
            self.inactivity_expiry
        ):
            return 403, _error("invalid_grant", _DEAD_REFRESH)
        if entry.rotated_at is not None and now > entry.rotated_at + self.leeway:
            if self.reuse_detection:
                family.revoked = True  # a stolen token is being replayed: the family dies
            return 403, _error("invalid_grant", _DEAD_REFRESH)
        if entry.rotated_at is None:
            entry.rotated_at = now
        self.refreshes += 1
        return 200, self._answer(family)

    def _answer(self, family: _Family) -> JSONObject:
        access, refresh = self._pair(family)
        body: JSONObject = {
            "access_token": access,
            "expires_in": int(self.token_ttl),
            "token_type": "Bearer",
            "scope": " ".join(family.scopes),
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return body


def _error(code: str, description: str) -> JSONObject:
    return {"error": code, "error_description": description}


def _verifies(code: _Code, verifier: str | None) -> bool:
    """RFC 7636 (Atlassian does not document PKCE for 3LO; a challenge sent is checked)."""
    if verifier is None:
        return False
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == code.challenge
    return verifier == code.challenge

"""An OAuth 2.0 authorization server in memory, for every fake: one client, the grants users
gave it, authorization codes with PKCE, access tokens that expire, refresh tokens that may
rotate, and revocation.

What differs between providers (token shapes, error bodies, whether refresh tokens rotate, what
a token response carries) is a `Dialect` the provider's package supplies; the rules themselves
(a code works once, a revoked grant kills its access tokens, a rotated refresh token dies at
once) are the same for all.
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

from starlette.responses import RedirectResponse

from syncline.types import JSONObject

__all__ = [
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "Dialect",
    "Grants",
    "OAuthFailure",
    "redirect_with_code",
]

SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the fakes' well-known test secret

OAuthFailure = Literal[
    "unknown_client",
    "bad_secret",
    "bad_grant_type",
    "bad_refresh_token",
    "bad_code",
    "redirect_mismatch",
    "bad_verifier",
    "bad_scope",
]
"""Why a token request failed; the dialect renders each as its provider does."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one provider's token endpoint speaks."""

    access_prefix: str
    refresh_prefix: str
    code_prefix: str
    error: Callable[[OAuthFailure, str], tuple[int, JSONObject]]
    """(failure, detail such as the grant type) -> (HTTP status, body)."""
    rotate_refresh_tokens: bool = False
    """Whether every refresh returns a new refresh token, the old one dying at once."""
    refresh_token_always: bool = False
    """Whether every token response carries the refresh token (Microsoft), or only the
    exchange and rotations do (Google)."""
    more_fields: Callable[[int], JSONObject] = lambda _ttl: {}
    """More fields of a token response, given its `expires_in`."""
    hidden_scopes: frozenset[str] = frozenset()
    """Scopes asked for but never echoed in `scope` (Microsoft's `offline_access`)."""
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret
    """The `token_type` of a token response (Box sends `bearer`)."""
    echo_scope: bool = True
    """Whether a token response carries `scope` (Box's carries none)."""


@dataclass(slots=True)
class _Grant:
    user: str
    refresh_token: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Code:
    user: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    challenge: str | None
    method: str | None


@dataclass(eq=False)
class Grants:
    """One OAuth client of a fake provider and the grants its users gave it."""

    dialect: Dialect
    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    token_ttl: float = 3600.0
    clock: Callable[[], float] = time.time
    rotate_refresh_tokens: bool = field(init=False)
    _by_refresh: dict[str, _Grant] = field(default_factory=dict, init=False)
    _access: dict[str, tuple[_Grant, float]] = field(default_factory=dict, init=False)
    _codes: dict[str, _Code] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.rotate_refresh_tokens = self.dialect.rotate_refresh_tokens

    def issue(self, user: str, scopes: Iterable[str]) -> tuple[str, str]:
        """Register a grant for `user` with `scopes`: (access token, refresh token)."""
        with self._lock:
            grant = _Grant(user, self._new_refresh_token(), tuple(scopes))
            self._by_refresh[grant.refresh_token] = grant
            return self._mint(grant), grant.refresh_token

    def grant_for(self, access_token: str) -> tuple[str, frozenset[str]] | None:
        """(user, scopes) of an unexpired access token."""
        with self._lock:
            entry = self._access.get(access_token)
        if entry is None or self.clock() >= entry[1]:
            return None
        return entry[0].user, frozenset(entry[0].scopes)

    def user_for(self, access_token: str) -> str | None:
        found = self.grant_for(access_token)
        return None if found is None else found[0]

    def revoke(self, refresh_token: str) -> None:
        """The user removed the app: the grant and its access tokens stop working."""
        with self._lock:
            grant = self._by_refresh.pop(refresh_token, None)
            if grant is not None:
                self._access = {t: v for t, v in self._access.items() if v[0] is not grant}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is rejected from now on."""
        with self._lock:
            self._access.clear()

    def expire_access_token(self, access_token: str) -> None:
        """This access token is rejected from now on (its grant lives on)."""
        with self._lock:
            self._access.pop(access_token, None)

    def authorize(
        self,
        user: str,
        redirect_uri: str | None,
        scopes: Iterable[str],
        *,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """Consent given: a single-use code for `user` granting `scopes`. With a PKCE
        `code_challenge` (`S256`, or `plain` when no method is named), the exchange must show
        its verifier; with a `redirect_uri`, the exchange must repeat it."""
        code = self.dialect.code_prefix + secrets.token_urlsafe(24)
        method = code_challenge_method or ("plain" if code_challenge else None)
        with self._lock:
            self._codes[code] = _Code(user, redirect_uri, tuple(scopes), code_challenge, method)
        return code

    def token_endpoint(
        self, form: Mapping[str, str], basic: tuple[str, str] | None = None
    ) -> tuple[int, JSONObject]:
        """Answer one token request (form fields, and HTTP Basic client credentials if sent):
        (HTTP status, JSON body)."""
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        if client_id != self.client_id:
            return self.dialect.error("unknown_client", client_id or "")
        if client_secret != self.client_secret:
            return self.dialect.error("bad_secret", "")
        grant_type = form.get("grant_type", "")
        with self._lock:
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""), form.get("scope"))
            if grant_type == "authorization_code":
                return self._exchange(form)
        return self.dialect.error("bad_grant_type", grant_type)

    def _refresh(self, refresh_token: str, scope: str | None) -> tuple[int, JSONObject]:
        grant = self._by_refresh.get(refresh_token)
        if grant is None:
            return self.dialect.error("bad_refresh_token", "")
        # A refresh may name scopes, but only ones the user granted (or fewer).
        asked = set((scope or "").split()) - self.dialect.hidden_scopes
        if not asked <= set(grant.scopes):
            return self.dialect.error("bad_scope", " ".join(sorted(asked - set(grant.scopes))))
        rotated = self.rotate_refresh_tokens
        if rotated:
            del self._by_refresh[refresh_token]
            grant.refresh_token = self._new_refresh_token()
            self._by_refresh[grant.refresh_token] = grant
        return 200, self._body(grant, with_refresh=rotated)

    def _exchange(self, form: Mapping[str, str]) -> tuple[int, JSONObject]:
        code = self._codes.pop(form.get("code", ""), None)  # a code works once
        if code is None:
            return self.dialect.error("bad_code", "")
        if code.redirect_uri is not None and form.get("redirect_uri") != code.redirect_uri:
            return self.dialect.error("redirect_mismatch", "")
        if code.challenge is not None and not _verifies(code, form.get("code_verifier")):
            return self.dialect.error("bad_verifier", "")
        grant = _Grant(code.user, self._new_refresh_token(), code.scopes)
        self._by_refresh[grant.refresh_token] = grant
        return 200, self._body(grant, with_refresh=True)

    def _body(self, grant: _Grant, *, with_refresh: bool) -> JSONObject:
        # Providers report one second less than the real lifetime (3599 for an hour).
        ttl = max(1, math.ceil(self.token_ttl) - 1)
        body: JSONObject = {"access_token": self._mint(grant), "expires_in": ttl}
        if self.dialect.echo_scope:
            body["scope"] = " ".join(s for s in grant.scopes if s not in self.dialect.hidden_scopes)
        body["token_type"] = self.dialect.token_type
        body.update(self.dialect.more_fields(ttl))
        if with_refresh or self.dialect.refresh_token_always:
            body["refresh_token"] = grant.refresh_token
        return body

    def _mint(self, grant: _Grant) -> str:
        token = self.dialect.access_prefix + secrets.token_urlsafe(32)
        self._access[token] = (grant, self.clock() + self.token_ttl)
        return token

    def _new_refresh_token(self) -> str:
        return self.dialect.refresh_prefix + secrets.token_urlsafe(32)


def redirect_with_code(
    redirect_uri: str, params: Mapping[str, str], answer: dict[str, str]
) -> RedirectResponse:
    """Back to the client after consent: `answer` (the code, and what else the provider sends)
    and the request's `state`, in the redirect URI's query."""
    if "state" in params:
        answer = {**answer, "state": params["state"]}
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(answer), 302)


def _verifies(code: _Code, verifier: str | None) -> bool:
    """RFC 7636: `S256` is the unpadded base64url SHA-256 of the verifier; `plain` itself."""
    if verifier is None:
        return False
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == code.challenge
    return verifier == code.challenge

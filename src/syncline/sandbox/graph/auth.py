"""The Microsoft identity platform's v2.0 token and authorize endpoints, in memory.

Refresh tokens rotate: every refresh returns a new one, and (unlike Google) the old one stops
working at once here, the strictest form Microsoft allows, so a client that does not keep the
new token, or refreshes twice at once, fails in tests rather than in production. Errors are
Microsoft's: `error`, `error_description` starting with an `AADSTS` code, `error_codes`,
`timestamp`, `trace_id`, `correlation_id`.
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from syncline.sandbox.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from syncline.types import JSONObject

__all__ = ["FILE_SCOPES", "GROUP_SCOPES", "GraphGrants"]

FILE_SCOPES = frozenset(
    {"Files.Read", "Files.Read.All", "Files.ReadWrite", "Files.ReadWrite.All",
     "Sites.Read.All", "Sites.ReadWrite.All"}
)  # fmt: skip
"""Any of these lets a token read driveItems."""
GROUP_SCOPES = frozenset({"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"})
"""Any of these lets a token list an Entra group's members."""


@dataclass(slots=True)
class _Grant:
    user: str
    refresh_token: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Code:
    user: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    method: str | None


class GraphGrants:
    """One app registration (client) and the grants users gave it."""

    def __init__(
        self,
        *,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self._clock = clock
        self._by_refresh: dict[str, _Grant] = {}
        self._access: dict[str, tuple[_Grant, float]] = {}
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()

    def issue(self, user: str, scopes: Iterable[str]) -> tuple[str, str]:
        with self._lock:
            grant = _Grant(user, _refresh(), tuple(scopes))
            self._by_refresh[grant.refresh_token] = grant
            return self._mint(grant), grant.refresh_token

    def grant_for(self, token: str) -> tuple[str, frozenset[str]] | None:
        """(user id, scopes) of an unexpired access token."""
        with self._lock:
            entry = self._access.get(token)
        if entry is None or self._clock() >= entry[1]:
            return None
        return entry[0].user, frozenset(entry[0].scopes)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def expire_access_token(self, token: str) -> None:
        with self._lock:
            self._access.pop(token, None)

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            grant = self._by_refresh.pop(refresh_token, None)
            if grant is not None:
                self._access = {t: v for t, v in self._access.items() if v[0] is not grant}

    def authorize(self, user: str, params: Mapping[str, str]) -> str:
        """Consent given: a code for `user` with the scopes and PKCE challenge asked for."""
        code = "0.sandbox-code-" + secrets.token_urlsafe(24)
        method = params.get("code_challenge_method")
        challenge = params.get("code_challenge")
        with self._lock:
            self._codes[code] = _Code(
                user,
                params.get("redirect_uri", ""),
                tuple(params.get("scope", "").split()),
                challenge,
                method or ("plain" if challenge else None),
            )
        return code

    def token_endpoint(self, form: Mapping[str, str]) -> tuple[int, JSONObject]:
        """Answer one `POST /{tenant}/oauth2/v2.0/token`."""
        if form.get("client_id") != self.client_id:
            return 400, _error(
                "unauthorized_client", 700016, "Application with identifier was not found."
            )
        if form.get("client_secret") != self.client_secret:
            return 401, _error("invalid_client", 7000215, "Invalid client secret provided.")
        grant_type = form.get("grant_type", "")
        with self._lock:
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""))
            if grant_type == "authorization_code":
                return self._exchange(form)
        return 400, _error(
            "unsupported_grant_type", 70003, f"The grant type '{grant_type}' is not supported."
        )

    def _refresh(self, refresh_token: str) -> tuple[int, JSONObject]:
        grant = self._by_refresh.pop(refresh_token, None)
        if grant is None:
            return 400, _error(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to "
                "inactivity or has been revoked.",
            )
        grant.refresh_token = _refresh()
        self._by_refresh[grant.refresh_token] = grant
        return 200, self._body(grant)

    def _exchange(self, form: Mapping[str, str]) -> tuple[int, JSONObject]:
        code = self._codes.pop(form.get("code", ""), None)  # a code works once
        if code is None:
            return 400, _error(
                "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid."
            )
        if form.get("redirect_uri") != code.redirect_uri:
            return 400, _error(
                "invalid_grant", 50148, "The redirect URI does not match the one of the code."
            )
        if code.challenge is not None and not _verifies(code, form.get("code_verifier")):
            return 400, _error("invalid_grant", 501481, "The Code_Verifier does not match.")
        grant = _Grant(code.user, _refresh(), code.scopes)
        self._by_refresh[grant.refresh_token] = grant
        return 200, self._body(grant)

    def _body(self, grant: _Grant) -> JSONObject:
        ttl = max(1, math.ceil(self.token_ttl) - 1)
        return {
            "token_type": "Bearer",
            "scope": " ".join(s for s in grant.scopes if s != "offline_access"),
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": self._mint(grant),
            "refresh_token": grant.refresh_token,
        }

    def _mint(self, grant: _Grant) -> str:
        token = "eyJ0eXAiOiJKV1QiLCJub25jZSI6.sandbox." + secrets.token_urlsafe(32)
        self._access[token] = (grant, self._clock() + self.token_ttl)
        return token


def _refresh() -> str:
    return "0.AAAA-sandbox-" + secrets.token_urlsafe(32)


def _verifies(code: _Code, verifier: str | None) -> bool:
    if verifier is None:
        return False
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == code.challenge
    return verifier == code.challenge


def _error(error: str, code: int, description: str) -> JSONObject:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} "
            f"Timestamp: {now}"
        ),
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": correlation,
    }

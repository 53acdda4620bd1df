"""The OAuth 2 authorization-code flow that connects an end user's account (`/connect/...`).

`start` remembers who began (project, user, integration, where to send them back) under a
random `state` and sends the user to the provider's consent screen, with PKCE where the
connector asks for it. `finish` takes that state once (a replayed or forged one is refused),
trades the code for tokens at the provider, and imports them as any credential is imported:
checked with the provider, encrypted, with what the token response adds as `providerData`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

import httpx

from syncline.connectors.base import ConnectorSpec, OAuthFlow
from syncline.connectors.registry import Registry
from syncline.credentials.oauth import OAuthApp, exchange_code
from syncline.credentials.service import CredentialService
from syncline.crypto import SecretBox
from syncline.domain.credentials import Credential
from syncline.errors import CredentialRevoked, InvalidInput, UpstreamError
from syncline.store.shapes import ConnectSession
from syncline.store.store import Store

__all__ = ["SESSION_LIFETIME", "ConnectFlow", "Connected", "with_query"]

SESSION_LIFETIME = timedelta(minutes=10)
"""How long an end user has to get through the consent screen."""


@dataclass(frozen=True, slots=True)
class Connected:
    """The end of a connect flow: the new credential and where to send the user."""

    credential: Credential
    redirect: str


class ConnectFlow:
    def __init__(
        self,
        store: Store,
        box: SecretBox,
        http: httpx.AsyncClient,
        registry: Registry,
        apps: Mapping[str, OAuthApp],
        credentials: CredentialService,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._box = box
        self._http = http
        self._registry = registry
        self._apps = apps
        self._credentials = credentials
        self._clock = clock

    async def start(
        self, project_id: str, user_id: str, integration: str, *, redirect: str, callback: str
    ) -> str:
        """The provider's authorize URL for this user, who comes back to `callback`.

        Raises:
            InvalidInput: unknown integration, one without an OAuth flow or client id, or a
                `redirect` that is not an absolute http(s) URL.
        """
        spec, flow, app = self._flow(integration)
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(
                "redirect must be the absolute http(s) URL to send the user back to.",
                field="redirect",
            )
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48) if flow.pkce else None
        now = self._clock()
        await self._store.open_connect_session(
            ConnectSession(
                id=state,
                project_id=project_id,
                user_id=user_id,
                integration=spec.integration,
                redirect=redirect,
                verifier_enc=None if verifier is None else self._box.encrypt(verifier),
                expires_at=now + SESSION_LIFETIME,
            ),
            now,
        )
        assert app.auth_url is not None
        assert app.client_id is not None
        query = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": callback,
            "scope": " ".join(flow.scopes),
            "state": state,
            **flow.authorize_params,
        }
        if verifier is not None:
            query |= {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
        separator = "&" if "?" in app.auth_url else "?"
        return app.auth_url + separator + urlencode(query)

    async def finish(self, integration: str, state: str, code: str, *, callback: str) -> Connected:
        """Trade the code for tokens and import them for the user who began.

        Raises:
            InvalidInput: the state is unknown, used, expired or of another integration
                (`CONNECT_STATE_INVALID`); or the provider refused the code
                (`CREDENTIAL_INVALID`). Nothing is stored then.
        """
        spec, flow, app = self._flow(integration)
        session = await self._store.take_connect_session(state, self._clock())
        if session is None or session.integration != spec.integration:
            raise InvalidInput(
                "This connect link is unknown, expired or already used; start again from the "
                "application.",
                field="state",
                code="CONNECT_STATE_INVALID",
            )
        verifier = None if session.verifier_enc is None else self._box.decrypt(session.verifier_enc)
        try:
            granted = await exchange_code(
                self._http, app, code, redirect_uri=callback, verifier=verifier, now=self._clock()
            )
        except CredentialRevoked as exc:
            raise InvalidInput(
                f"{spec.integration} refused the authorization code: {exc}",
                field="code",
                code="CREDENTIAL_INVALID",
            ) from exc
        except UpstreamError as exc:
            raise InvalidInput(
                f"{spec.integration} could not be reached to finish connecting: {exc}",
                field="code",
                code="UPSTREAM_UNAVAILABLE",
            ) from exc
        scope = granted.body.get("scope")
        imported = await self._credentials.import_tokens(
            session.project_id,
            session.user_id,
            spec.integration,
            granted.tokens,
            scopes=scope.split() if isinstance(scope, str) else [],
            account_email=None,
            provider_data=flow.provider_data(granted.body) if flow.provider_data else None,
        )
        return Connected(imported.credential, session.redirect)

    async def refused(self, integration: str, state: str, error: str) -> str:
        """The user declined on the consent screen (or the provider failed): where to send
        them back, with the provider's `error`, the state used up.

        Raises:
            InvalidInput: the state is unknown, used or expired (`CONNECT_STATE_INVALID`).
        """
        session = await self._store.take_connect_session(state, self._clock())
        if session is None or session.integration != integration:
            raise InvalidInput(
                "This connect link is unknown, expired or already used.",
                field="state",
                code="CONNECT_STATE_INVALID",
            )
        return with_query(session.redirect, error=error[:100], integration=integration)

    def _flow(self, integration: str) -> tuple[ConnectorSpec, OAuthFlow, OAuthApp]:
        spec = self._registry.get(integration)
        if spec is None:
            raise InvalidInput(
                f"Unknown integration {integration!r}.",
                field="integration",
                code="UNKNOWN_INTEGRATION",
            )
        app = self._apps.get(spec.integration)
        if spec.oauth is None or app is None or app.auth_url is None:
            raise InvalidInput(
                f"{integration} has no OAuth connect flow; import its tokens with "
                "POST /api/credentials.",
                field="integration",
                code="NO_CONNECT_FLOW",
            )
        if app.client_id is None:
            prefix = f"SYNCLINE_{spec.integration.upper()}"
            raise InvalidInput(
                f"The operator has not configured {integration}'s OAuth client: set "
                f"{prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET.",
                field="integration",
                code="NO_OAUTH_CLIENT",
            )
        return spec, spec.oauth, app


def _challenge(verifier: str) -> str:
    """RFC 7636 S256: the unpadded base64url SHA-256 of the verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query string."""
    separator = "&" if urlsplit(url).query else "?"
    return url + separator + urlencode(params)

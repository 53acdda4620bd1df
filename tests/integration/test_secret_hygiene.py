"""Secrets never reach logs, error bodies or webhook payloads, on the paths where they travel.

One realistic flow runs through the harness: a credential is imported, its token refreshed, a
webhook endpoint fails, a provider answers a refresh with an error that repeats what it was sent,
and callers send wrong tokens and bad bodies full of secrets. Every log line (structlog and
stdlib logging), every HTTP response body Syncline answered and every webhook it sent is then
searched for every secret in play.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import MutableMapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from syncline.sandbox import DriveState
from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID
from syncline.webhooks import generate_secret
from tests.support.harness import DRIVE_USER, Harness, harness
from tests.support.server import serve_in_thread


@dataclass
class TokenEndpoint:
    """The sandbox's token endpoint behind a switch: when `echo` is on it fails every refresh
    with an error body that repeats the refresh token and client secret it received, as
    careless providers do. It remembers every token it handed out."""

    drive: DriveState
    echo: bool = False
    issued: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/token", self._token, methods=["POST"])])

    async def _token(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        if self.echo:
            refresh = form.get("refresh_token", "")
            secret = form.get("client_secret", "")
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": (
                        f"Bad Request: refresh_token={refresh} ({quote(refresh, safe='')}) "
                        f"is not valid for client_secret={secret}"
                    ),
                },
                status_code=400,
            )
        status, body = self.drive.grants.token_endpoint(form, None)
        self.issued += [str(body[k]) for k in ("access_token", "refresh_token") if k in body]
        return JSONResponse(body, status_code=status)


@dataclass
class Transcript:
    """Everything Syncline said: HTTP answers, plus what the log capture holds."""

    bodies: list[str] = field(default_factory=list)

    def keep(self, response: httpx.Response) -> httpx.Response:
        # Only what Syncline answered: the request line would repeat what the test sent.
        request = response.request
        self.bodies.append(
            f"{request.method} {request.url.path} -> {response.status_code} "
            f"{dict(response.headers)} {response.text}"
        )
        return response


def _rendered(entry: MutableMapping[str, Any]) -> str:
    """A structlog entry as text, with any exception's whole chain written out."""
    text = repr(entry)
    exc = entry.get("exc_info")
    if isinstance(exc, BaseException):
        text += "".join(traceback.format_exception(exc))
    elif isinstance(exc, tuple) and exc and exc[1] is not None:
        text += "".join(traceback.format_exception(exc[1]))
    return text


def _callers_own(record: logging.LogRecord) -> bool:
    """httpx's line about a request the test itself sent to the in-process API (it holds what
    the test chose to send, not what Syncline logged)."""
    return record.name == "httpx" and "http://syncline/" in record.getMessage()


@pytest.fixture
def stdlib_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every stdlib log record of every logger, down to DEBUG (httpx, uvicorn, ...)."""
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_no_secret_reaches_logs_error_bodies_or_webhooks(database_url, tmp_path, stdlib_logs):
    """Access and refresh tokens (old and refreshed), `providerData`, the OAuth client secret,
    the webhook secrets, SYNCLINE_SECRET_KEY, the user token and the admin token appear in no
    log line, no HTTP response and no webhook payload, even when a provider and callers echo
    them."""
    client_secret = "cs-" + secrets.token_urlsafe(24)
    admin_token = "adm-" + secrets.token_urlsafe(24)
    drive = DriveState(client_id=SANDBOX_CLIENT_ID, client_secret=client_secret)
    endpoint = TokenEndpoint(drive)
    said = Transcript()
    with ExitStack() as stack, structlog.testing.capture_logs() as logs:
        token_url = stack.enter_context(serve_in_thread(endpoint.app())) + "/token"
        env = {
            "SYNCLINE_GOOGLEDRIVE_TOKEN_URL": token_url,
            "SYNCLINE_GOOGLEDRIVE_CLIENT_SECRET": client_secret,
        }
        async with harness(
            database_url, tmp_path, drive=drive, env=env, admin_token=admin_token
        ) as h:
            secrets_used = await _flow(h, endpoint, said, admin_token)
            secrets_used |= {
                "client secret": client_secret,
                "admin token": admin_token,
                "SYNCLINE_SECRET_KEY": str(h.runtime.settings.secret_key),
                "default webhook secret": h.receiver.secret,
            }
            webhooks = [repr(d) for d in h.receiver.deliveries]

    places = {
        "structlog": [_rendered(e) for e in logs],
        "stdlib logging": [
            f"{r.name} {r.getMessage()} {r.exc_text or ''}"
            for r in stdlib_logs.records
            if not _callers_own(r)
        ],
        "HTTP responses": said.bodies,
        "webhook deliveries": webhooks,
    }
    # The flow went where secrets travel: a failed delivery, a refused refresh whose echo was
    # scrubbed, refused tokens and bodies.
    events = {e.get("event") for e in logs}
    assert {"webhook.delivery_failed", "credential.refreshed", "sync.errored"} <= events
    assert any("[redacted]" in str(e.get("error")) for e in logs if e["event"] == "sync.errored")
    statuses = [line.split(" -> ")[1][:3] for line in said.bodies]
    assert statuses.count("401") >= 10
    assert statuses.count("422") >= 8
    leaks = [
        f"{name} in {place}: {line[:300]}"
        for name, value in secrets_used.items()
        for place, lines in places.items()
        for line in lines
        for form in {value, quote(value, safe=""), quote(value)}
        if form in line
    ]
    assert not leaks, "\n".join(leaks)


async def _flow(
    h: Harness, endpoint: TokenEndpoint, said: Transcript, admin_token: str
) -> dict[str, str]:
    """Drive Syncline through the paths secrets travel; returns the secrets it saw."""
    api = h.api
    user_jwt = h.token()
    user = {"Authorization": f"Bearer {user_jwt}"}
    access, refresh = h.drive.issue_tokens(DRIVE_USER)
    provider_secret = "pd-" + secrets.token_urlsafe(24)
    h.drive.add_file("a.txt", content=b"x")

    # Import the credential, sync, refresh once successfully.
    created = said.keep(
        await api.post(
            "/api/credentials",
            headers=user,
            json={
                "integration": "googledrive",
                "accessToken": access,
                "refreshToken": refresh,
                "accountEmail": DRIVE_USER,
                "providerData": {"secretAccessKey": provider_secret},
            },
        )
    )
    assert 201 == created.status_code, created.text
    sync = said.keep(
        await api.post(
            "/api/syncs", headers=user, json={"integration": "googledrive", "pipeline": "files"}
        )
    ).json()
    await h.settle()
    h.drive.expire_access_tokens()
    h.drive.add_file("b.txt", content=b"x")
    await h.trigger(sync["id"])
    await h.settle()
    assert endpoint.issued, "the access token should have been refreshed"

    # A webhook endpoint that fails, then one whose destination is refused.
    h.receiver.down = True
    h.drive.add_file("c.txt", content=b"x")
    await h.trigger(sync["id"])
    await h.settle()
    h.receiver.down = False
    admin = {"Authorization": f"Bearer {admin_token}"}
    webhook_secret = generate_secret()
    said.keep(
        await api.put(
            f"/admin/projects/{h.project_id}/webhook",
            headers=admin,
            json={"url": f"http://127.0.0.1:9/in?token={access}", "secret": webhook_secret},
        )
    )
    said.keep(
        await api.put(
            f"/admin/projects/{h.project_id}/webhook",
            headers=admin,
            json={"url": f"https://user:{refresh}@93.184.216.34/in", "secret": webhook_secret},
        )
    )
    said.keep(
        await api.put(
            f"/admin/projects/{h.project_id}/webhook",
            headers=admin,
            json={"url": "https://93.184.216.34/in", "secret": webhook_secret[:-8] + "!!!!" * 2},
        )
    )
    said.keep(await api.get(f"/admin/projects/{h.project_id}", headers=admin))

    # The provider now refuses refreshes and repeats what it was sent.
    endpoint.echo = True
    h.clock.advance(minutes=10)
    h.drive.expire_access_tokens()
    await h.trigger(sync["id"])
    await h.settle()
    status = said.keep(await api.get(f"/api/syncs/{sync['id']}", headers=user)).json()
    assert "ERRORED" == status["status"], status
    said.keep(await api.get(f"/api/syncs/{sync['id']}/events", headers=user))
    said.keep(await api.get("/api/credentials", headers=user))
    said.keep(await api.get("/sdk/me", headers=user))
    said.keep(await api.get(f"/api/syncs/{sync['id']}/records", headers=user))

    # Wrong tokens: each is refused without being repeated.
    for bearer in [
        user_jwt[:-4] + "AAAA",
        user_jwt + ".extra",
        access,
        refresh,
        admin_token,
        h.drive.grants.client_secret,
        "x" * 9000 + user_jwt,
    ]:
        said.keep(await api.get("/api/syncs", headers={"Authorization": f"Bearer {bearer}"}))
    for bearer in [user_jwt, access, admin_token[:-2]]:
        said.keep(
            await api.get(
                f"/admin/projects/{h.project_id}", headers={"Authorization": f"Bearer {bearer}"}
            )
        )

    # Bad bodies carrying secrets in fields named like secrets.
    bad_bodies: list[tuple[str, str, Any]] = [
        ("POST", "/api/credentials", {"integration": "googledrive", "accessToken": access * 300}),
        ("POST", "/api/credentials", {"integration": "googledrive", "accessToken": {"v": access}}),
        (
            "POST",
            "/api/credentials",
            {"integration": "googledrive", "accessToken": access, "refreshToken": [refresh]},
        ),
        (
            "POST",
            "/api/credentials",
            {"integration": "googledrive", "accessToken": access, "expiresAt": refresh},
        ),
        ("POST", "/api/credentials", {"accessToken": access, "refreshToken": refresh}),
        (
            "POST",
            "/api/credentials",
            {"integration": "googledrive", "access_token": access, "scopes": refresh},
        ),
        (
            "POST",
            "/api/syncs",
            {"integration": "googledrive", "pipeline": "files", "credentialId": refresh},
        ),
        (
            "POST",
            "/api/syncs",
            {
                "integration": "googledrive",
                "pipeline": "files",
                "incrementalAccumulatorFrequency": access,
            },
        ),
        (
            "PUT",
            f"/admin/projects/{h.project_id}/webhook",
            {"url": access * 200, "secret": webhook_secret},
        ),
        (
            "PUT",
            f"/admin/projects/{h.project_id}/webhook",
            {"url": "https://93.184.216.34/", "secret": webhook_secret * 9},
        ),
        (
            "PUT",
            f"/admin/projects/{h.project_id}/webhook",
            {"url": f"gopher://{refresh}/", "secret": webhook_secret},
        ),
    ]
    for method, path, body in bad_bodies:
        headers = admin if path.startswith("/admin") else user
        response = said.keep(await api.request(method, path, headers=headers, json=body))
        assert 400 <= response.status_code < 500, (path, body, response.text)
    said.keep(await api.get(f"/api/syncs/{sync['id']}/records?cursor={refresh}", headers=user))
    said.keep(
        await api.post("/api/credentials", headers=user, content=f'{{"accessToken": "{access}')
    )

    return {
        "access token": access,
        "refresh token": refresh,
        "user token": user_jwt,
        "providerData secret": provider_secret,
        "admin webhook secret": webhook_secret,
        **{f"refreshed token {i}": t for i, t in enumerate(endpoint.issued)},
    }

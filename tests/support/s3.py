"""A whole Syncline beside a real S3-compatible server: moto's server mode in a subprocess on
127.0.0.1, behind a small fault-injecting proxy, with IAM users whose signatures moto checks.

One moto process serves the test session (started on first use, stopped at exit); each
`s3_harness` empties it, makes its users, and from then on moto checks every request's
signature and permissions as S3 does. Syncline reaches moto through `S3Proxy`, which forwards
each request unchanged (the Host header too: it is signed) unless a fault armed on it answers
instead: S3's own error forms (`SlowDown`, `ServiceUnavailable`, `ExpiredToken`,
`PermanentRedirect` to another region), which moto never sends. Seeding and changing objects
(`S3Admin`) go to moto directly, so faults only ever meet Syncline.
"""

from __future__ import annotations

import atexit
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from syncline.connectors.amazons3.signing import SigV4, encode_key, encode_query
from syncline.sandbox import BackgroundServer
from syncline.sandbox.kit.faults import FaultQueue
from syncline.sandbox.s3 import MotoServer, s3_env
from tests.support.harness import Harness, harness

__all__ = [
    "REGION",
    "S3_FAULTS",
    "Keys",
    "S3Admin",
    "S3Harness",
    "S3Proxy",
    "moto_server",
    "s3_harness",
]

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
S3_FAULTS = ("slowdown", "503", "500", "expired_token", "redirect", "access_denied")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade"})
_EVERYTHING = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)

_server: MotoServer | None = None


def moto_server() -> MotoServer:
    """The session's moto server, started on first use and stopped when the process exits."""
    global _server
    if _server is None:
        _server = MotoServer().start()
        atexit.register(_server.stop)
    return _server


@dataclass(frozen=True)
class Keys:
    """An access key as IAM (or STS, with `session_token`) issued it."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def provider_data(self, region: str = REGION) -> dict[str, str]:
        data = {
            "accessKeyId": self.access_key_id,
            "secretAccessKey": self.secret_access_key,
            "region": region,
        }
        if self.session_token:
            data["sessionToken"] = self.session_token
        return data


def _xml(text: str, name: str) -> str:
    found = re.search(f"<{name}>(.*?)</{name}>", text, re.S)
    assert found is not None, f"no <{name}> in {text[:500]}"
    return found.group(1)


class S3Admin:
    """Makes users, buckets and objects in moto with an all-powerful key (signed, so it works
    once moto checks signatures)."""

    def __init__(self, url: str, keys: Keys) -> None:
        self.url = url
        self.keys = keys
        self._s3 = httpx.Client(auth=self._signer("s3"), timeout=60.0)

    def _signer(self, service: str) -> SigV4:
        k = self.keys
        return SigV4(k.access_key_id, k.secret_access_key, REGION, k.session_token, service=service)

    def close(self) -> None:
        self._s3.close()

    # -- IAM and STS ---------------------------------------------------------------------------

    def call(self, service: str, version: str, **form: str) -> str:
        body = encode_query({"Version": version, **form}).encode()
        answer = httpx.post(
            f"{self.url}/",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            auth=self._signer(service),
        )
        assert 200 == answer.status_code, answer.text
        return answer.text

    def iam(self, action: str, **form: str) -> str:
        return self.call("iam", "2010-05-08", Action=action, **form)

    def user(self, name: str, policy: str = _EVERYTHING) -> Keys:
        """A new IAM user allowed `policy` (a JSON document), and an access key of it."""
        self.iam("CreateUser", UserName=name)
        self.iam("PutUserPolicy", UserName=name, PolicyName="p", PolicyDocument=policy)
        created = self.iam("CreateAccessKey", UserName=name)
        return Keys(_xml(created, "AccessKeyId"), _xml(created, "SecretAccessKey"))

    def session(self, name: str = "reader", policy: str = _EVERYTHING) -> Keys:
        """Temporary keys with a session token (STS AssumeRole of a new role)."""
        trust = orjson.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ).decode()
        role = self.iam("CreateRole", RoleName=name, AssumeRolePolicyDocument=trust)
        self.iam("PutRolePolicy", RoleName=name, PolicyName="p", PolicyDocument=policy)
        assumed = self.call(
            "sts",
            "2011-06-15",
            Action="AssumeRole",
            RoleArn=_xml(role, "Arn"),
            RoleSessionName="syncline",
        )
        return Keys(
            _xml(assumed, "AccessKeyId"),
            _xml(assumed, "SecretAccessKey"),
            _xml(assumed, "SessionToken"),
        )

    # -- S3 ------------------------------------------------------------------------------------

    def _object(self, bucket: str, key: str) -> str:
        return f"{self.url}/{bucket}/{encode_key(key)}"

    def create_bucket(self, bucket: str) -> None:
        answer = self._s3.put(f"{self.url}/{bucket}")
        assert 200 == answer.status_code, answer.text

    def put(self, bucket: str, key: str, content: bytes, content_type: str | None = None) -> None:
        headers = {"Content-Type": content_type} if content_type else {}
        answer = self._s3.put(self._object(bucket, key), content=content, headers=headers)
        assert 200 == answer.status_code, answer.text

    def copy(self, bucket: str, source: str, target: str) -> None:
        answer = self._s3.put(
            self._object(bucket, target),
            headers={"x-amz-copy-source": f"/{bucket}/{encode_key(source)}"},
        )
        assert 200 == answer.status_code, answer.text

    def delete(self, bucket: str, key: str) -> None:
        answer = self._s3.delete(self._object(bucket, key))
        assert 204 == answer.status_code, answer.text

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in the bucket (under `prefix`), in S3's order."""
        query = encode_query({"list-type": "2", "prefix": prefix, "max-keys": "1000"})
        answer = self._s3.get(f"{self.url}/{bucket}?{query}")
        assert 200 == answer.status_code, answer.text
        return [m.group(1) for m in re.finditer(r"<Key>(.*?)</Key>", answer.text)]


def _fault_response(kind: str, redirect_region: str) -> Response:
    codes = {
        "slowdown": (503, "SlowDown", "Please reduce your request rate."),
        "503": (503, "ServiceUnavailable", "Service is unable to handle request."),
        "500": (500, "InternalError", "We encountered an internal error. Please try again."),
        "expired_token": (400, "ExpiredToken", "The provided token has expired."),
        "access_denied": (403, "AccessDenied", "Access Denied"),
        "redirect": (
            301,
            "PermanentRedirect",
            "The bucket you are attempting to access must be addressed using the specified "
            "endpoint. Please send all future requests to this endpoint.",
        ),
    }
    status, code, message = codes[kind]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>SANDBOX0000000000</RequestId></Error>"
    )
    headers = {"x-amz-request-id": "SANDBOX0000000000"}
    if kind == "redirect":
        headers["x-amz-bucket-region"] = redirect_region
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


class S3Proxy:
    """Forwards every request to moto as it came, except those an armed fault answers.

    `faults.inject(kind, path="/bucket", times=n)` arms one of `S3_FAULTS`; `requests` is
    every (method, path, query) that reached the proxy.
    """

    def __init__(self, upstream: str, *, redirect_region: str = OTHER_REGION) -> None:
        self.upstream = upstream
        self.redirect_region = redirect_region
        self.faults = FaultQueue(S3_FAULTS, default_scope=lambda path: True)
        self.requests: list[tuple[str, str, str]] = []
        self._client: httpx.AsyncClient | None = None
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._forward,
                    methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
                )
            ]
        )

    async def _forward(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"").decode()
        self.requests.append((request.method, request.url.path, query))
        fault = self.faults.take(request.url.path, dict(request.query_params))
        if fault is not None:
            return _fault_response(fault.kind, self.redirect_region)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60.0)
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.decode().lower() not in _HOP_BY_HOP
        ]
        url = self.upstream + raw_path.decode() + (f"?{query}" if query else "")
        outgoing = self._client.build_request(
            request.method, url, headers=headers, content=await request.body()
        )
        answer = await self._client.send(outgoing, stream=True)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in answer.aiter_raw():
                    yield chunk
            finally:
                await answer.aclose()

        return StreamingResponse(body(), status_code=answer.status_code, headers=kept)

    def fired(self) -> int:
        return sum(self.faults.fired.values())


@dataclass
class S3Harness:
    h: Harness
    moto: MotoServer
    proxy: S3Proxy
    admin: S3Admin
    keys: Keys
    """The reading user's key: may list, read and identify itself, nothing else."""
    bucket: str
    url: str
    """Where Syncline reaches S3: the proxy in front of moto."""

    async def connect(
        self,
        user: str = "user-1",
        keys: Keys | None = None,
        region: str = REGION,
        **body: Any,
    ) -> str:
        answer = await self.import_keys(user, keys, region, **body)
        assert 201 == answer.status_code, answer.text
        return str(answer.json()["id"])

    async def import_keys(
        self,
        user: str = "user-1",
        keys: Keys | None = None,
        region: str = REGION,
        **body: Any,
    ) -> httpx.Response:
        provider_data = (keys or self.keys).provider_data(region)
        return await self.h.api.post(
            "/api/credentials",
            headers=self.h.auth(user),
            json={"integration": "amazons3", "providerData": provider_data, **body},
        )

    async def enable(self, configuration: dict[str, Any] | None = None, **body: Any) -> Any:
        return await self.h.api.post(
            "/api/syncs",
            headers=self.h.auth(),
            json={
                "integration": "amazons3",
                "pipeline": "files",
                "configuration": {"bucket": self.bucket}
                if configuration is None
                else configuration,
                **body,
            },
        )

    async def synced(self, configuration: dict[str, Any] | None = None) -> str:
        """A sync whose initial run is done."""
        answer = await self.enable(configuration)
        assert 200 == answer.status_code, answer.text
        await self.h.settle()
        return str(answer.json()["id"])

    def put(self, key: str, content: bytes, content_type: str | None = None) -> None:
        self.admin.put(self.bucket, key, content, content_type)


READER_POLICY = orjson.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                # moto names the action of a listing after its API call (ListObjectsV2),
                # where IAM has s3:ListBucket: both, so the policy reads as S3's would.
                "Action": [
                    "s3:ListBucket",
                    "s3:ListObjectsV2",
                    "s3:GetObject",
                    "sts:GetCallerIdentity",
                ],
                "Resource": "*",
            }
        ],
    }
).decode()


@asynccontextmanager
async def s3_harness(database_url: str, **settings: Any) -> AsyncIterator[S3Harness]:
    """Syncline beside moto, in which the bucket `documents` exists (empty), an admin key
    (`admin`) and a reading key (`keys`: list, read, identify) exist, and every request's
    signature is checked from then on."""
    moto = moto_server()
    moto.reset()
    # Before signatures are checked, any key may make the first user.
    admin = S3Admin(moto.url, Keys("AKIABOOTSTRAP0000000", "bootstrap"))
    admin_keys = admin.user("admin")
    admin.close()
    admin = S3Admin(moto.url, admin_keys)
    reader = admin.user("reader", READER_POLICY)
    moto.require_signatures()
    admin.create_bucket("documents")
    proxy = S3Proxy(moto.url)
    try:
        with BackgroundServer(proxy.app) as front:
            async with harness(database_url, None, env=s3_env(front.url), **settings) as h:
                yield S3Harness(h, moto, proxy, admin, reader, "documents", front.url)
    finally:
        admin.close()
        moto.reset()

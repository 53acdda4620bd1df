"""Known attacks on JWT bearer tokens, sent over the API: each answers 401 with a clear JSON
error, quickly, never a 5xx and never data.

Each test sends one family of attacks and reports every one that was not refused properly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from syncline.auth import generate_signing_key, mint_user_token
from syncline.domain.projects import Project
from tests.support.harness import Harness, harness

MAX_SECONDS = 1.0
"""Refusing a token costs no more than this, however large or deep the token."""


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        await running.connect()
        yield running


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _segment(value: object) -> str:
    return _b64(json.dumps(value).encode())


def _claims(h: Harness, **override: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "aud": f"useparagon.com/{h.project_id}",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], key: Any, algorithm: str, **header: Any) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=header or None)


def _hmac_token(claims: dict[str, Any], secret: bytes, alg: str = "HS256") -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), digest).digest())}"


def _public_pem(private_pem: str) -> bytes:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def _refusals(h: Harness, attacks: dict[str, str]) -> dict[str, str]:
    """Sends each `Authorization` value; returns what was wrong with each answer that was not
    a quick 401 with an UNAUTHORIZED JSON body and no echo of the token."""
    problems: dict[str, str] = {}
    for name, authorization in attacks.items():
        started = time.monotonic()
        response = await h.api.get("/api/syncs", headers={b"Authorization": authorization.encode()})
        elapsed = time.monotonic() - started
        body = response.json() if response.headers.get("content-type") == "application/json" else {}
        token = authorization.removeprefix("Bearer ")
        if response.status_code != 401 or body.get("code") != "UNAUTHORIZED":
            problems[name] = f"{response.status_code} {response.text[:200]}"
        elif not body.get("message") or response.headers.get("www-authenticate") != "Bearer":
            problems[name] = f"unclear refusal: {response.text[:200]} {response.headers}"
        elif len(token) > 16 and token in response.text:
            problems[name] = "the error echoes the token"
        elif elapsed > MAX_SECONDS:
            problems[name] = f"took {elapsed:.2f}s"
    return problems


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {name: f"Bearer {token}" for name, token in tokens.items()}


async def test_the_valid_token_is_accepted(h):
    """The baseline the attacks are variations of works: without it every 401 below proves
    nothing."""
    response = await h.api.get("/api/syncs", headers=h.auth())

    assert 200 == response.status_code


async def test_unsigned_and_hmac_tokens_are_refused(h):
    """alg none, and HMAC tokens keyed with the project's own public key (the classic RS256 to
    HS256 confusion), are refused."""
    claims = _claims(h)
    public = _public_pem(h.private_pem)
    unsigned = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}"
    attacks = {
        "alg none, empty signature": f"{unsigned}.",
        "alg none, no signature segment": unsigned,
        "alg None": f"{_segment({'alg': 'None'})}.{_segment(claims)}.",
        "alg NONE with a signature": f"{_segment({'alg': 'NONE'})}.{_segment(claims)}.c2ln",
        "no alg": f"{_segment({'typ': 'JWT'})}.{_segment(claims)}.",
        "HS256 keyed with the public PEM": _hmac_token(claims, public),
        "HS256 keyed with the stripped PEM": _hmac_token(claims, public.strip()),
        "HS512 keyed with the public PEM": _hmac_token(claims, public, "HS512"),
        "HS256 keyed with the DER key": _hmac_token(
            claims,
            serialization.load_pem_public_key(public).public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        ),
    }

    assert {} == await _refusals(h, _bearer(attacks))


async def test_foreign_keys_and_key_confusion_are_refused(h):
    """Tokens signed by any key but the project's are refused, whatever their header claims:
    another project's key, a `kid` naming another project or no key, an embedded `jwk` or
    `jku`, and ES256 against an RSA project (and RS256 against an EC project)."""
    other = generate_signing_key("RS256")
    ec_project = generate_signing_key("ES256")
    ec_id = str(uuid.uuid4())
    await h.runtime.store.create_project(
        Project(ec_id, "ec", ec_project.public_pem, None, None, datetime.now(UTC)),
        datetime.now(UTC),
    )
    attacker_ec = ec.generate_private_key(ec.SECP256R1())
    attacker_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker_rsa.public_key()))
    claims = _claims(h)
    load = serialization.load_pem_private_key
    attacks = {
        "another project's key": mint_user_token(other.private_pem, h.project_id, "user-1"),
        "kid naming another project": _signed(
            claims, load(other.private_pem.encode(), None), "RS256", kid=ec_id
        ),
        "kid naming no key": _signed(
            claims, load(other.private_pem.encode(), None), "RS256", kid="../../etc/passwd"
        ),
        "embedded jwk of the signer": _signed(claims, attacker_rsa, "RS256", jwk=attacker_jwk),
        "jku pointing at the signer": _signed(
            claims, attacker_rsa, "RS256", jku="http://127.0.0.1:9/jwks.json"
        ),
        "ES256 against the RSA project": _signed(claims, attacker_ec, "ES256"),
        "the EC project's key for this project": mint_user_token(
            ec_project.private_pem, h.project_id, "user-1"
        ),
        "RS256 against the EC project": _signed(
            _claims(h, aud=f"useparagon.com/{ec_id}"), attacker_rsa, "RS256"
        ),
        "this project's key for the EC project": mint_user_token(h.private_pem, ec_id, "user-1"),
        "signature of another token": (
            h.token().rsplit(".", 1)[0] + "." + h.token("user-2").rsplit(".", 1)[1]
        ),
        "payload swapped after signing": ".".join(
            [h.token().split(".")[0], _segment(_claims(h, sub="user-2")), h.token().split(".")[2]]
        ),
    }

    assert {} == await _refusals(h, _bearer(attacks))


async def test_wrong_audience_is_refused(h):
    """`aud` must name an accepted host and an existing project, exactly once."""
    project = h.project_id
    audiences: dict[str, object] = {
        "other host": f"evil.example/{project}",
        "host suffix": f"useparagon.com.evil.example/{project}",
        "unknown project": f"useparagon.com/{uuid.uuid4()}",
        "missing": None,
        "no project": "useparagon.com/",
        "bare host": "useparagon.com",
        "extra path": f"useparagon.com/{project}/x",
        "project with spaces": f"useparagon.com/ {project}",
        "NUL in the project": f"useparagon.com/{project}\x00",
        "control character in the project": f"useparagon.com/\x07{project}",
        "huge project id": "useparagon.com/" + "p" * 5000,
        "two accepted audiences": [f"useparagon.com/{project}", f"localhost/{project}"],
        "a number": 42,
        "an object": {"host": "useparagon.com", "project": project},
        "empty list": [],
    }
    attacks = {}
    for name, aud in audiences.items():
        claims = _claims(h)
        if aud is None:
            del claims["aud"]
        else:
            claims["aud"] = aud
        attacks[name] = _signed(claims, _private(h), "RS256")

    assert {} == await _refusals(h, _bearer(attacks))


def _private(h: Harness) -> Any:
    return serialization.load_pem_private_key(h.private_pem.encode(), password=None)


async def test_bad_times_and_subjects_are_refused(h):
    """Expired, missing `exp`, not yet valid (`nbf`), issued in the future (`iat`),
    non-numeric times, and a missing, empty or unprintable `sub` are refused."""
    now = int(time.time())
    variants: dict[str, dict[str, Any]] = {
        "expired": {"exp": now - 3600},
        "expired just past the leeway": {"exp": now - 31},
        "missing exp": {"exp": None},
        "exp as a string": {"exp": str(now + 600)},
        "exp as a bool": {"exp": True},
        "exp huge": {"exp": 10**400},
        "nbf in the future": {"nbf": now + 3600},
        "iat in the future": {"iat": now + 3600},
        "missing sub": {"sub": None},
        "empty sub": {"sub": ""},
        "blank sub": {"sub": "   "},
        "sub a number": {"sub": 7},
        "NUL in sub": {"sub": "user-1\x00"},
        "control character in sub": {"sub": "user\n1"},
        "huge sub": {"sub": "u" * 2000},
    }
    attacks = {
        name: _signed(_claims(h, **claims), _private(h), "RS256")
        for name, claims in variants.items()
    }
    attacks["minted expired"] = mint_user_token(
        h.private_pem, h.project_id, "user-1", ttl=timedelta(seconds=-120)
    )

    assert {} == await _refusals(h, _bearer(attacks))


def _nested(depth: int) -> str:
    return _b64(("[" * depth + "]" * depth).encode())


async def test_malformed_and_huge_tokens_are_refused(h):
    """Garbage segments, bad base64 or JSON, deep nesting, a huge signed claims payload and a
    1 MB header are refused quickly with 401, never a 5xx."""
    header = _segment({"alg": "RS256", "typ": "JWT"})
    payload = _segment(_claims(h))
    signature = h.token().split(".")[2]
    deep_object = _b64(('{"a":' + "[" * 2500 + "]" * 2500 + "}").encode())
    tokens = {
        "one segment": "abc",
        "two segments": f"{header}.{payload}",
        "four segments": f"{header}.{payload}.{signature}.x",
        "empty segments": "..",
        "header not base64": f"!!!.{payload}.{signature}",
        "payload not base64": f"{header}.%%%%.{signature}",
        "signature not base64": f"{header}.{payload}.***",
        "header not JSON": f"{_b64(b'not json')}.{payload}.{signature}",
        "payload not JSON": f"{header}.{_b64(b'not json')}.{signature}",
        "header a JSON list": f"{_b64(b'[1]')}.{payload}.{signature}",
        "payload a JSON list": f"{header}.{_b64(b'[1]')}.{signature}",
        "payload a JSON string": f"{header}.{_segment('x')}.{signature}",
        "payload not UTF-8": f"{header}.{_b64(bytes([0xFF, 0xFE]))}.{signature}",
        "deeply nested header": f"{_nested(2500)}.{payload}.{signature}",
        "deeply nested payload": f"{header}.{_nested(2500)}.{signature}",
        "deeply nested claim": f"{header}.{deep_object}.{signature}",
        "NaN exp": f"{header}.{_b64(json.dumps(_claims(h, exp=float('nan'))).encode())}.x",
        "huge signed claims": _signed(_claims(h, blob="x" * 200_000), _private(h), "RS256"),
        "1 MB token": "a" * 1_000_000,
        "non-ASCII token": "é" * 40,
    }
    attacks = _bearer(tokens)
    attacks |= {
        "no scheme": h.token(),
        "Basic scheme": f"Basic {h.token()}",
        "Bearer and nothing": "Bearer ",
        "1 MB header of spaces": "Bearer " + " " * 1_000_000,
    }

    assert {} == await _refusals(h, attacks)


@pytest.mark.parametrize("path", ["/api/syncs", "/api/credentials", "/sdk/me"])
async def test_no_token_is_refused_everywhere(h, path: str):
    """Without a token no route answers anything but 401 (and the bearer scheme)."""
    response = await h.api.get(path)

    assert (401, "UNAUTHORIZED", "Bearer") == (
        response.status_code,
        response.json()["code"],
        response.headers.get("www-authenticate"),
    )

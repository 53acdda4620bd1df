"""User tokens: minting, verification, and the JWT attacks verification must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from syncline.auth import (
    Principal,
    SigningKey,
    TokenVerifier,
    generate_signing_key,
    load_public_key_pem,
    mint_user_token,
)
from syncline.errors import ConfigError, Unauthorized

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PROJECT = "0b6f3c9e-5f1a-4c1e-9d2b-6a8e4f1c2d3e"
OTHER_PROJECT = "5d0a2b7c-8e9f-4a1b-b2c3-d4e5f6a7b8c9"
USER = "user-42"
AUD = f"useparagon.com/{PROJECT}"

PublicKeys = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class Keys:
    rsa: SigningKey
    ec: SigningKey
    other_rsa: SigningKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa=generate_signing_key("RS256"),
        ec=generate_signing_key("ES256"),
        other_rsa=generate_signing_key("RS256"),
    )


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(["useparagon.com", "localhost"], clock=lambda: NOW)


def key_store(mapping: Mapping[str, str]) -> PublicKeys:
    async def public_keys(project_id: str) -> str | None:
        return mapping.get(project_id)

    return public_keys


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def craft(header: Mapping[str, object], payload: Mapping[str, object], signature: bytes) -> str:
    """A compact JWS built by hand, for what PyJWT refuses to produce."""
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(payload).encode()),
            b64url(signature),
        ]
    )


def claims(**overrides: object) -> dict[str, object]:
    """Valid claims at NOW; an override of None removes that claim."""
    base: dict[str, object] = {
        "sub": USER,
        "aud": AUD,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(hours=1)).timestamp()),
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def rs256(k: Keys, **overrides: object) -> str:
    return jwt.encode(claims(**overrides), k.rsa.private_pem, algorithm="RS256")


def ts(delta: timedelta) -> int:
    return int((NOW + delta).timestamp())


async def assert_refused(
    verifier: TokenVerifier, token: str, public_keys: PublicKeys, match: str | None = None
) -> Unauthorized:
    with pytest.raises(Unauthorized, match=match) as caught:
        await verifier.verify(token, public_keys)

    # Long enough that a match could not be a coincidence: the message never quotes the token.
    for part in token.split("."):
        if len(part) > 8:
            assert part not in str(caught.value)
    return caught.value


# --- accepted tokens -------------------------------------------------------------------------


async def test_valid_rs256_token_yields_its_principal(keys: Keys, verifier: TokenVerifier) -> None:
    """A token signed RS256 by the project's key yields (project from aud, user from sub)."""
    token = mint_user_token(keys.rsa.private_pem, PROJECT, USER, now=NOW)

    principal = await verifier.verify(token, key_store({PROJECT: keys.rsa.public_pem}))

    assert Principal(project_id=PROJECT, user_id=USER) == principal


async def test_valid_es256_token_yields_its_principal(keys: Keys, verifier: TokenVerifier) -> None:
    """A token signed ES256 by the project's P-256 key is accepted."""
    token = mint_user_token(keys.ec.private_pem, PROJECT, USER, host="localhost", now=NOW)

    principal = await verifier.verify(token, key_store({PROJECT: keys.ec.public_pem}))

    assert (Principal(PROJECT, USER), "ES256") == (
        principal,
        jwt.get_unverified_header(token)["alg"],
    )


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": f"UseParagon.COM/{PROJECT}"}, id="host-is-case-insensitive"),
        pytest.param({"aud": ["https://api.example.com", AUD]}, id="list-aud-with-one-match"),
        pytest.param({"exp": ts(timedelta(seconds=-10))}, id="expired-within-leeway"),
        pytest.param({"iat": ts(timedelta(seconds=10))}, id="iat-ahead-within-leeway"),
        pytest.param({"nbf": ts(timedelta(seconds=10))}, id="nbf-ahead-within-leeway"),
        pytest.param({"nbf": ts(timedelta(minutes=-1))}, id="nbf-in-the-past"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"role": "admin", "iss": "anything", "jti": "j-1"}, id="unknown-claims"),
    ],
)
async def test_acceptable_variations_verify(
    keys: Keys, verifier: TokenVerifier, overrides: dict[str, object]
) -> None:
    """Case-insensitive hosts, a list aud with one match, skew within leeway, extra claims pass."""
    token = rs256(keys, **overrides)

    principal = await verifier.verify(token, key_store({PROJECT: keys.rsa.public_pem}))

    assert Principal(project_id=PROJECT, user_id=USER) == principal


# --- refused tokens --------------------------------------------------------------------------


def hs256_with_public_pem(k: Keys) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims()).encode())}"
    mac = hmac.new(k.rsa.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def tampered_subject(k: Keys) -> str:
    header, _, signature = rs256(k).split(".")
    forged = b64url(json.dumps(claims(sub="someone-else")).encode())
    return f"{header}.{forged}.{signature}"


REFUSED: list[tuple[str, Callable[[Keys], str], str]] = [
    ("wrong-aud-host", lambda k: rs256(k, aud=f"evil.example/{PROJECT}"), "aud must be"),
    ("aud-without-project", lambda k: rs256(k, aud="useparagon.com/"), "aud must be"),
    ("aud-with-scheme", lambda k: rs256(k, aud=f"https://useparagon.com/{PROJECT}"), "aud must"),
    ("aud-with-extra-path", lambda k: rs256(k, aud=f"{AUD}/x"), "aud must be"),
    ("aud-host-only", lambda k: rs256(k, aud="useparagon.com"), "aud must be"),
    ("missing-aud", lambda k: rs256(k, aud=None), "missing the required claim aud: must be"),
    ("aud-not-a-string", lambda k: rs256(k, aud=42), "aud must be"),
    ("list-aud-empty", lambda k: rs256(k, aud=[]), "aud must be"),
    ("list-aud-no-match", lambda k: rs256(k, aud=["https://api.example.com"]), "aud must be"),
    (
        "list-aud-two-projects",
        lambda k: rs256(k, aud=[AUD, f"localhost/{OTHER_PROJECT}"]),
        "aud must be",
    ),
    ("list-aud-non-string", lambda k: rs256(k, aud=[AUD, 7]), "aud must be"),
    (
        "foreign-project",
        lambda k: jwt.encode(
            claims(aud=f"useparagon.com/{OTHER_PROJECT}"), k.rsa.private_pem, algorithm="RS256"
        ),
        "signature",
    ),
    ("missing-exp", lambda k: rs256(k, exp=None), "exp"),
    ("missing-sub", lambda k: rs256(k, sub=None), "sub"),
    ("empty-sub", lambda k: rs256(k, sub=""), "sub"),
    ("blank-sub", lambda k: rs256(k, sub="   "), "sub"),
    ("numeric-sub", lambda k: rs256(k, sub=42), "sub"),
    ("expired", lambda k: rs256(k, exp=ts(timedelta(seconds=-31))), "expired"),
    ("expired-long-ago", lambda k: rs256(k, exp=ts(timedelta(days=-1))), "expired"),
    ("exp-not-a-number", lambda k: rs256(k, exp=str(ts(timedelta(hours=1)))), "exp"),
    ("exp-infinite", lambda k: rs256(k, exp=float("inf")), "exp"),
    ("exp-boolean", lambda k: rs256(k, exp=True), "exp"),
    ("nbf-in-future", lambda k: rs256(k, nbf=ts(timedelta(minutes=5))), "not valid yet"),
    ("iat-in-future", lambda k: rs256(k, iat=ts(timedelta(minutes=5))), "iat"),
    ("alg-none", lambda k: craft({"alg": "none", "typ": "JWT"}, claims(), b""), "alg"),
    ("alg-None", lambda k: craft({"alg": "None"}, claims(), b""), "alg"),
    ("alg-NONE-with-sig", lambda k: craft({"alg": "NONE"}, claims(), b"sig"), "alg"),
    ("alg-missing", lambda k: craft({"typ": "JWT"}, claims(), b""), "alg"),
    ("alg-not-a-string", lambda k: craft({"alg": ["RS256"]}, claims(), b""), "alg"),
    ("hs256-with-public-pem", hs256_with_public_pem, "alg"),
    ("ps256", lambda k: jwt.encode(claims(), k.rsa.private_pem, algorithm="PS256"), "alg"),
    ("rs512", lambda k: jwt.encode(claims(), k.rsa.private_pem, algorithm="RS512"), "alg"),
    (
        "signed-by-another-key",
        lambda k: jwt.encode(claims(), k.other_rsa.private_pem, algorithm="RS256"),
        "signature",
    ),
    ("tampered-payload", tampered_subject, "signature"),
    ("signature-stripped", lambda k: rs256(k).rsplit(".", 1)[0] + ".", "signature"),
    (
        "es256-against-rsa-key",
        lambda k: mint_user_token(k.ec.private_pem, PROJECT, USER, now=NOW),
        "alg",
    ),
    ("garbage", lambda k: "garbage", "malformed"),
    ("three-garbage-parts", lambda k: "a.b.c", "malformed"),
    ("dots-only", lambda k: "..", "malformed"),
    ("empty", lambda k: "", "missing"),
    (
        "payload-not-json",
        lambda k: b64url(b'{"alg":"RS256"}') + "." + b64url(b"nope") + ".",
        "malformed",
    ),
    (
        "payload-json-array",
        lambda k: b64url(b'{"alg":"RS256"}') + "." + b64url(b"[1]") + ".",
        "malformed",
    ),
    (
        "nine-kilobytes",
        lambda k: mint_user_token(
            k.rsa.private_pem, PROJECT, USER, now=NOW, extra_claims={"pad": "x" * 9000}
        ),
        "longer than",
    ),
]


@pytest.mark.parametrize(("make", "match"), [pytest.param(m, r, id=i) for i, m, r in REFUSED])
async def test_attacks_and_malformed_tokens_are_unauthorized(
    keys: Keys, verifier: TokenVerifier, make: Callable[[Keys], str], match: str
) -> None:
    """Forged, unsigned, HMAC, mis-addressed, expired, early and malformed tokens are refused."""
    token = make(keys)
    public_keys = key_store(
        {PROJECT: keys.rsa.public_pem, OTHER_PROJECT: keys.other_rsa.public_pem}
    )

    await assert_refused(verifier, token, public_keys, match)


async def test_rs256_token_against_an_ec_project_key_is_unauthorized(
    keys: Keys, verifier: TokenVerifier
) -> None:
    """The token's alg must match the type of the key the project registered."""
    token = rs256(keys)

    await assert_refused(verifier, token, key_store({PROJECT: keys.ec.public_pem}), "alg RS256")


async def test_unknown_project_is_unauthorized(keys: Keys, verifier: TokenVerifier) -> None:
    """A token whose aud names a project without a key is refused."""
    token = rs256(keys)

    await assert_refused(verifier, token, key_store({}), "project that does not exist")


async def test_unusable_stored_key_is_unauthorized(keys: Keys, verifier: TokenVerifier) -> None:
    """A project whose stored key cannot be loaded verifies nothing."""
    token = rs256(keys)

    await assert_refused(verifier, token, key_store({PROJECT: "not a pem"}), "not usable")


async def test_verification_failure_chains_the_cause(keys: Keys, verifier: TokenVerifier) -> None:
    """Failures from PyJWT keep the original exception as `__cause__` for the logs."""
    token = jwt.encode(claims(), keys.other_rsa.private_pem, algorithm="RS256")

    error = await assert_refused(verifier, token, key_store({PROJECT: keys.rsa.public_pem}))

    assert isinstance(error.__cause__, jwt.InvalidSignatureError)


async def test_key_lookup_errors_propagate(keys: Keys, verifier: TokenVerifier) -> None:
    """An outage in the key lookup is not an authentication failure and is not disguised as one."""

    async def broken(project_id: str) -> str | None:
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        await verifier.verify(rs256(keys), broken)


async def test_clock_defaults_to_now(keys: Keys) -> None:
    """Without an injected clock, a freshly minted token verifies and an old one has expired."""
    verifier = TokenVerifier(["useparagon.com"])
    public_keys = key_store({PROJECT: keys.rsa.public_pem})
    fresh = mint_user_token(keys.rsa.private_pem, PROJECT, USER)
    stale = mint_user_token(keys.rsa.private_pem, PROJECT, USER, now=NOW)

    principal = await verifier.verify(fresh, public_keys)

    assert Principal(PROJECT, USER) == principal
    await assert_refused(verifier, stale, public_keys, "expired")


@pytest.mark.parametrize("hosts", [[], [""], ["  "], ["https://useparagon.com/"]])
def test_verifier_needs_audience_hosts(hosts: list[str]) -> None:
    """A verifier without a usable audience host is a configuration error naming the setting."""
    with pytest.raises(ConfigError, match="SYNCLINE_AUDIENCE_HOSTS"):
        TokenVerifier(hosts)


def test_verifier_normalizes_hosts() -> None:
    """Audience hosts are trimmed, lower-cased and deduplicated."""
    verifier = TokenVerifier([" UseParagon.com ", "useparagon.com", "localhost"])

    expected = ("useparagon.com", "localhost")

    assert expected == verifier.audience_hosts


# --- minting and keys ------------------------------------------------------------------------


def test_mint_writes_sub_aud_iat_exp(keys: Keys) -> None:
    """A minted token carries sub, aud as host/project, iat and exp = iat + ttl."""
    token = mint_user_token(
        keys.rsa.private_pem, PROJECT, USER, host="localhost", ttl=timedelta(minutes=5), now=NOW
    )

    decoded = jwt.decode(token, options={"verify_signature": False})

    assert {
        "sub": USER,
        "aud": f"localhost/{PROJECT}",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 300,
    } == decoded
    expected_header = {"alg": "RS256", "typ": "JWT"}
    assert expected_header == jwt.get_unverified_header(token)


def test_mint_extra_claims_are_added_last(keys: Keys) -> None:
    """Extra claims are added to, and may override, the standard ones."""
    token = mint_user_token(
        keys.rsa.private_pem, PROJECT, USER, now=NOW, extra_claims={"nbf": 1, "sub": "other"}
    )

    decoded = jwt.decode(token, options={"verify_signature": False})

    expected = {"nbf": 1, "sub": "other"}

    assert expected == {"nbf": decoded["nbf"], "sub": decoded["sub"]}


def test_mint_refuses_unusable_private_keys(keys: Keys) -> None:
    """Garbage, encrypted and non-P-256 private keys are configuration errors."""
    encrypted = (
        serialization.load_pem_private_key(keys.rsa.private_pem.encode(), password=None)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
        .decode()
    )
    p384 = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    for pem in ["garbage", encrypted, keys.rsa.public_pem, p384]:
        with pytest.raises(ConfigError):
            mint_user_token(pem, PROJECT, USER, now=NOW)


def test_mint_refuses_naive_now(keys: Keys) -> None:
    """`now` must be timezone-aware, so iat and exp cannot silently shift by the local offset."""
    with pytest.raises(ValueError, match="timezone-aware"):
        mint_user_token(keys.rsa.private_pem, PROJECT, USER, now=datetime(2025, 1, 1))


def test_generate_signing_key_types(keys: Keys) -> None:
    """RS256 generates RSA 2048 and ES256 generates P-256, as PEM pairs."""
    rsa_public = serialization.load_pem_public_key(keys.rsa.public_pem.encode())
    ec_public = serialization.load_pem_public_key(keys.ec.public_pem.encode())

    assert isinstance(rsa_public, rsa.RSAPublicKey)
    assert isinstance(ec_public, ec.EllipticCurvePublicKey)
    expected = {"rsa": ("RS256", 2048), "ec": ("ES256", "secp256r1")}

    assert expected == {
        "rsa": (keys.rsa.algorithm, rsa_public.key_size),
        "ec": (keys.ec.algorithm, ec_public.curve.name),
    }
    assert "PRIVATE KEY" not in repr(keys.rsa)


def test_generate_signing_key_refuses_other_algorithms() -> None:
    """Only RS256 and ES256 keys can be generated."""
    with pytest.raises(ConfigError, match="RS256, ES256"):
        generate_signing_key("HS256")


def test_load_public_key_pem_accepts_rsa_and_p256(keys: Keys) -> None:
    """RSA and P-256 public keys load, also when written on one line with literal \\n."""
    one_line = keys.ec.public_pem.replace("\n", "\\n")

    assert keys.rsa.public_pem == load_public_key_pem(keys.rsa.public_pem)
    assert keys.ec.public_pem == load_public_key_pem(f"  {one_line}  ")


def test_load_public_key_pem_refuses_unusable_keys() -> None:
    """Garbage, short RSA and non-P-256 keys are configuration errors naming the setting."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    short_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    cases = {
        "not a PEM public key": "not a key",
        "at least 2048 bits": short_rsa.public_bytes(serialization.Encoding.PEM, spki).decode(),
        "P-256": p384.public_bytes(serialization.Encoding.PEM, spki).decode(),
    }

    for reason, pem in cases.items():
        with pytest.raises(ConfigError, match=f"SYNCLINE_SIGNING_PUBLIC_KEY.*{reason}"):
            load_public_key_pem(pem)


def test_load_public_key_pem_refuses_a_private_key_without_echoing_it(keys: Keys) -> None:
    """A private key given by mistake is refused, and the message does not quote it."""
    with pytest.raises(ConfigError, match="private key") as caught:
        load_public_key_pem(keys.rsa.private_pem)

    assert keys.rsa.private_pem.splitlines()[1] not in str(caught.value)

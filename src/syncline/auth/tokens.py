"""User tokens: minting and verifying the JWTs that identify a project's connected users."""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TypeAlias

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from syncline.errors import ConfigError, Unauthorized

__all__ = [
    "MAX_TOKEN_LENGTH",
    "SUPPORTED_ALGORITHMS",
    "Principal",
    "SigningKey",
    "TokenVerifier",
    "generate_signing_key",
    "load_public_key_pem",
    "mint_user_token",
]

MAX_TOKEN_LENGTH: Final = 8 * 1024
"""Longer tokens are refused before any parsing: a real user token is well under 2 KB."""

SUPPORTED_ALGORITHMS: Final = ("RS256", "ES256")
"""The only JWS algorithms a user token may use; HMAC and `none` are never accepted."""

_MIN_RSA_BITS: Final = 2048

MAX_SUBJECT_LENGTH: Final = 255
"""The longest user id a token may carry: the length the store keeps."""

_MAX_PROJECT_ID_LENGTH: Final = 64

PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A project's signing key pair, as PEM text (PKCS#8 private, SubjectPublicKeyInfo public)."""

    algorithm: str
    private_pem: str
    public_pem: str

    def __repr__(self) -> str:
        # Keeps the private key out of logs and tracebacks.
        return f"SigningKey(algorithm={self.algorithm!r}, public_pem=...)"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified user token speaks for: every query is scoped to this pair."""

    project_id: str
    user_id: str


def generate_signing_key(algorithm: str = "RS256") -> SigningKey:
    """Generate a new project signing key pair.

    Args:
        algorithm: `RS256` (RSA 2048) or `ES256` (ECDSA P-256).

    Raises:
        ConfigError: the algorithm is not one of `SUPPORTED_ALGORITHMS`.
    """
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "RS256":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=_MIN_RSA_BITS)
    elif algorithm == "ES256":
        private_key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ConfigError(
            f"signing key algorithm must be one of {', '.join(SUPPORTED_ALGORITHMS)}, "
            f"not {algorithm!r}"
        )
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return SigningKey(algorithm, private_pem, _public_pem(private_key.public_key()))


def mint_user_token(
    private_pem: str,
    project_id: str,
    user_id: str,
    *,
    host: str = "useparagon.com",
    ttl: timedelta = timedelta(hours=1),
    now: datetime | None = None,
    extra_claims: Mapping[str, object] | None = None,
) -> str:
    """Sign a user token the way an application signs Paragon user tokens.

    Args:
        private_pem: the project's private key (RSA signs RS256, EC P-256 signs ES256).
        project_id: goes into `aud` as `<host>/<project_id>`.
        user_id: the connected user, the `sub` claim.
        host: the audience host.
        ttl: lifetime; `exp` is `iat + ttl`.
        now: the issue time (timezone-aware); defaults to the current time.
        extra_claims: added last, so they may also override `sub`, `aud`, `iat` or `exp`.

    Raises:
        ConfigError: the private key is not an unencrypted RSA or EC P-256 PEM.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(
            "the signing private key is not a readable, unencrypted PEM private key"
        ) from exc
    if isinstance(private_key, rsa.RSAPrivateKey):
        algorithm = "RS256"
    elif isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(
        private_key.curve, ec.SECP256R1
    ):
        algorithm = "ES256"
    else:
        raise ConfigError("the signing private key must be an RSA or an EC P-256 key")
    claims: dict[str, object] = {
        "sub": user_id,
        "aud": f"{host}/{project_id}",
        "iat": math.floor(now.timestamp()),
        "exp": math.floor((now + ttl).timestamp()),
    }
    claims.update(extra_claims or {})
    return jwt.encode(claims, private_key, algorithm=algorithm)


def load_public_key_pem(pem: str) -> str:
    """Check that `pem` is a public key user tokens can be verified with; return it normalized.

    Accepts an RSA (2048 bits or more) or EC P-256 public key in PEM form. A PEM written on
    one line with literal `\\n` sequences (common in environment variables) is accepted too.

    Raises:
        ConfigError: the text is not such a key; the message names `SYNCLINE_SIGNING_PUBLIC_KEY`.
    """
    if "\n" not in pem and "\\n" in pem:
        pem = pem.replace("\\n", "\n")
    if "PRIVATE KEY" in pem:
        raise ConfigError(
            "SYNCLINE_SIGNING_PUBLIC_KEY holds a private key; give the matching public key "
            "(-----BEGIN PUBLIC KEY-----) and keep the private key with your application"
        )
    try:
        key = _parse_public_key(pem.strip())
    except ValueError as exc:
        raise ConfigError(f"SYNCLINE_SIGNING_PUBLIC_KEY is not usable: {exc}") from exc
    return _public_pem(key)


class TokenVerifier:
    """Verifies user tokens against the signing key of the project named in their `aud`."""

    def __init__(
        self,
        audience_hosts: Sequence[str],
        *,
        leeway: timedelta = timedelta(seconds=30),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Build a verifier.

        Args:
            audience_hosts: accepted `aud` hosts (`SYNCLINE_AUDIENCE_HOSTS`), case-insensitive.
            leeway: clock skew tolerated on `exp`, `nbf` and `iat`.
            clock: returns the current timezone-aware time; defaults to the system clock.

        Raises:
            ConfigError: no usable audience host was given.
        """
        hosts = tuple(dict.fromkeys(h.strip().lower() for h in audience_hosts if h.strip()))
        if not hosts or any("/" in h for h in hosts):
            raise ConfigError(
                "SYNCLINE_AUDIENCE_HOSTS must list at least one host name "
                "(comma separated, no scheme or path), e.g. useparagon.com,localhost"
            )
        if leeway < timedelta(0):
            raise ValueError("leeway must not be negative")
        self._hosts = hosts
        self._leeway = leeway.total_seconds()
        self._clock = clock or _utcnow

    @property
    def audience_hosts(self) -> tuple[str, ...]:
        """The accepted `aud` hosts, lower-cased."""
        return self._hosts

    async def verify(
        self, token: str, public_keys: Callable[[str], Awaitable[str | None]]
    ) -> Principal:
        """Verify `token` and return who it speaks for.

        Args:
            token: the bearer token, without the `Bearer ` prefix.
            public_keys: looks up a project's public key PEM; None for an unknown project.
                Whatever it raises (say, a database outage) propagates unchanged.

        Raises:
            Unauthorized: the token is malformed, forged, expired, or not for an accepted
                audience. Messages never include the token.
        """
        if not token:
            raise Unauthorized("user token is missing")
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized(f"user token is longer than {MAX_TOKEN_LENGTH} characters")

        # Everything read before the signature check only selects the key; nothing from it is
        # trusted until PyJWT has verified the signature with that key.
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized("user token is malformed: not a signed JWT") from exc
        algorithm = header.get("alg")
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise Unauthorized(
                f"user token alg must be one of {', '.join(SUPPORTED_ALGORITHMS)}; "
                "unsigned and HMAC tokens are refused"
            )
        if unverified.get("aud") is None:
            raise Unauthorized(
                "user token is missing the required claim aud: "
                + self._audience_message().removeprefix("user token aud ")
            )
        audience, project_id = self._audience(unverified.get("aud"))

        pem = await public_keys(project_id)
        if pem is None:
            raise Unauthorized("user token aud names a project that does not exist")
        try:
            key = _parse_public_key(pem)
        except ValueError as exc:
            raise Unauthorized("the project's signing public key is not usable") from exc
        if algorithm != _algorithm_for(key):
            raise Unauthorized(
                f"user token alg {algorithm} does not match the project's "
                f"{_algorithm_for(key)} signing key"
            )

        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=audience,
                # Time claims are checked below against the injected clock, which PyJWT
                # cannot use; it still checks presence, signature, aud, sub and jti.
                options={
                    "require": ["exp", "sub", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized(
                "user token signature does not match the project's signing key"
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"user token is missing the required claim {exc.claim}") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized(self._audience_message()) from exc
        except jwt.exceptions.InvalidSubjectError as exc:
            raise Unauthorized("user token sub must be a non-empty string") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"user token is invalid ({type(exc).__name__})") from exc

        self._check_times(claims)
        subject = claims["sub"]
        # The user id scopes every query and is stored: it must be text the store can hold.
        if (
            not isinstance(subject, str)
            or not subject.strip()
            or len(subject) > MAX_SUBJECT_LENGTH
            or not subject.isprintable()
        ):
            raise Unauthorized(
                "user token sub must be a non-empty printable string of at most "
                f"{MAX_SUBJECT_LENGTH} characters"
            )
        return Principal(project_id=project_id, user_id=subject)

    def _audience(self, aud: object) -> tuple[str, str]:
        """The one accepted audience in `aud`, and the project id it names."""
        if isinstance(aud, str):
            candidates = [aud]
        elif isinstance(aud, list) and all(isinstance(a, str) for a in aud):
            candidates = aud
        else:
            raise Unauthorized(self._audience_message())
        matches = [(a, p) for a in candidates if (p := self._project_of(a)) is not None]
        # Two accepted audiences would leave the project ambiguous: refuse rather than guess.
        if len(matches) != 1:
            raise Unauthorized(self._audience_message())
        return matches[0]

    def _project_of(self, audience: str) -> str | None:
        host, slash, project_id = audience.partition("/")
        if not slash or host.lower() not in self._hosts:
            return None
        if not project_id or "/" in project_id or project_id != project_id.strip():
            return None
        # Looked up in the database before the signature is checked: only plausible ids.
        if len(project_id) > _MAX_PROJECT_ID_LENGTH or not project_id.isprintable():
            return None
        return project_id

    def _audience_message(self) -> str:
        return (
            f"user token aud must be <host>/<projectId> with host one of {', '.join(self._hosts)}"
        )

    def _check_times(self, claims: Mapping[str, object]) -> None:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the TokenVerifier clock must return timezone-aware datetimes")
        now_ts = now.timestamp()
        exp = _numeric_date(claims, "exp")
        if exp is not None and exp <= now_ts - self._leeway:
            raise Unauthorized("user token has expired")
        nbf = _numeric_date(claims, "nbf")
        if nbf is not None and nbf > now_ts + self._leeway:
            raise Unauthorized("user token is not valid yet (nbf is in the future)")
        iat = _numeric_date(claims, "iat")
        if iat is not None and iat > now_ts + self._leeway:
            raise Unauthorized("user token iat is in the future")


def _numeric_date(claims: Mapping[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    problem = Unauthorized(f"user token {name} must be a number of seconds since the epoch")
    # bool is an int subclass and JSON allows Infinity/NaN through Python's parser: refuse both.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise problem
    try:
        seconds = float(value)  # an int beyond float's range overflows
    except OverflowError:
        raise problem from None
    if not math.isfinite(seconds):
        raise problem
    return seconds


@functools.lru_cache(maxsize=256)
def _parse_public_key(pem: str) -> PublicKey:
    """Load a PEM public key usable for RS256 or ES256; ValueError says why not."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a PEM public key (-----BEGIN PUBLIC KEY-----)") from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise ValueError(f"RSA keys must have at least {_MIN_RSA_BITS} bits")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("EC keys must use the P-256 curve (ES256)")
        return key
    raise ValueError("only RSA (RS256) and EC P-256 (ES256) public keys are supported")


def _algorithm_for(key: PublicKey) -> str:
    return "RS256" if isinstance(key, rsa.RSAPublicKey) else "ES256"


def _public_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _utcnow() -> datetime:
    return datetime.now(UTC)

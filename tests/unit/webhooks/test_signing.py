"""Standard Webhooks signing: known vectors, round trips, tampering, tolerance and secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncline.errors import ConfigError
from syncline.webhooks import (
    SECRET_PREFIX,
    WebhookVerificationError,
    generate_secret,
    headers,
    sign,
    verify,
)

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
MSG_ID = "evt_2f9c0d1e"
TIMESTAMP = 1_740_830_400
BODY = b'{"event":"sync_complete","id":"evt_2f9c0d1e"}'

ID_ALPHABET = string.ascii_letters + string.digits + "_-"
msg_ids = st.text(alphabet=ID_ALPHABET, min_size=1, max_size=40)
timestamps = st.integers(min_value=0, max_value=4_102_444_800)  # up to 2100
bodies = st.binary(max_size=2048)
secrets_ = st.binary(min_size=24, max_size=64).map(lambda key: base64.b64encode(key).decode())


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def test_signature_matches_an_independent_hmac() -> None:
    """The signature is base64(HMAC-SHA256(key, "id.timestamp.body")) behind "v1,"."""
    digest = hmac.new(KEY, f"{MSG_ID}.{TIMESTAMP}.".encode() + BODY, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()

    assert expected == sign(SECRET, MSG_ID, TIMESTAMP, BODY)


def test_signature_matches_the_published_test_vector() -> None:
    """The vector used by the Standard Webhooks reference libraries' own tests is reproduced."""
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    actual = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )

    assert expected == actual


def test_headers_carry_id_timestamp_and_signature() -> None:
    """`headers` returns the three webhook-* headers for the message."""
    expected = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": sign(SECRET, MSG_ID, TIMESTAMP, BODY),
    }

    assert expected == headers(SECRET, MSG_ID, TIMESTAMP, BODY)


def test_secret_prefix_is_optional() -> None:
    """A secret without the whsec_ prefix signs the same way."""
    expected = sign(SECRET, MSG_ID, TIMESTAMP, BODY)

    assert expected == sign(SECRET.removeprefix(SECRET_PREFIX), MSG_ID, TIMESTAMP, BODY)


def test_generate_secret_is_prefixed_random_32_bytes() -> None:
    """Generated secrets are whsec_ + base64 of 32 bytes, and never repeat."""
    count, key_bytes = 20, 32

    generated = {generate_secret() for _ in range(count)}

    assert count == len(generated)
    for secret in generated:
        assert secret.startswith(SECRET_PREFIX)
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        assert key_bytes == len(key)


@given(secret=secrets_, msg_id=msg_ids, timestamp=timestamps, body=bodies)
def test_verify_accepts_what_sign_produced(
    secret: str, msg_id: str, timestamp: int, body: bytes
) -> None:
    """verify(sign(message)) passes for any secret, id, timestamp and body."""
    signed = headers(secret, msg_id, timestamp, body)

    verify(secret, signed, body, now=at(timestamp))
    verify(SECRET_PREFIX + secret, signed, body, now=at(timestamp))


@given(msg_id=msg_ids, timestamp=timestamps, body=bodies.filter(bool), data=st.data())
def test_flipping_one_body_byte_fails(
    msg_id: str, timestamp: int, body: bytes, data: st.DataObject
) -> None:
    """Changing any one byte of the body invalidates the signature."""
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    tampered = body[:index] + bytes([body[index] ^ mask]) + body[index + 1 :]
    signed = headers(SECRET, msg_id, timestamp, body)

    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
        verify(SECRET, signed, tampered, now=at(timestamp))


@given(msg_id=msg_ids, timestamp=timestamps, body=bodies, data=st.data())
def test_changing_one_id_character_fails(
    msg_id: str, timestamp: int, body: bytes, data: st.DataObject
) -> None:
    """Changing any one character of webhook-id invalidates the signature."""
    index = data.draw(st.integers(0, len(msg_id) - 1), label="index")
    replacement = data.draw(st.sampled_from(ID_ALPHABET.replace(msg_id[index], "")))
    signed = headers(SECRET, msg_id, timestamp, body)
    signed["webhook-id"] = msg_id[:index] + replacement + msg_id[index + 1 :]

    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
        verify(SECRET, signed, body, now=at(timestamp))


@given(timestamp=timestamps, body=bodies, data=st.data())
def test_changing_one_timestamp_digit_fails(
    timestamp: int, body: bytes, data: st.DataObject
) -> None:
    """Changing any one digit of webhook-timestamp invalidates the signature, even in tolerance."""
    text = str(timestamp)
    index = data.draw(st.integers(0, len(text) - 1), label="index")
    digit = data.draw(st.sampled_from(string.digits.replace(text[index], "")), label="digit")
    tampered = text[:index] + digit + text[index + 1 :]
    signed = headers(SECRET, MSG_ID, timestamp, body)
    signed["webhook-timestamp"] = tampered

    # Verifying "now" at the tampered time isolates the signature check from the tolerance one.
    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
        verify(SECRET, signed, body, now=at(int(tampered)))


def test_any_matching_signature_among_several_passes() -> None:
    """A header with several space-separated signatures passes if one v1 entry matches."""
    old_secret = generate_secret()
    valid = sign(SECRET, MSG_ID, TIMESTAMP, BODY)
    rotated = sign(old_secret, MSG_ID, TIMESTAMP, BODY)
    signed = headers(SECRET, MSG_ID, TIMESTAMP, BODY)
    signed["webhook-signature"] = f"v1a,c29tZXRoaW5n {rotated} v1,bm9wZQ== {valid}"

    verify(SECRET, signed, BODY, now=at(TIMESTAMP))
    verify(old_secret, signed, BODY, now=at(TIMESTAMP))


def test_header_names_are_case_insensitive() -> None:
    """Header names are matched whatever their case."""
    signed = {
        name.title(): value for name, value in headers(SECRET, MSG_ID, TIMESTAMP, BODY).items()
    }

    verify(SECRET, signed, BODY, now=at(TIMESTAMP))


def test_default_clock_is_now() -> None:
    """Without `now`, a message signed this second verifies."""
    timestamp = int(time.time())

    verify(SECRET, headers(SECRET, MSG_ID, timestamp, BODY), BODY)


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (timedelta(0), True),
        (timedelta(minutes=5), True),
        (timedelta(minutes=-5), True),
        (timedelta(minutes=5, seconds=1), False),
        (timedelta(minutes=-5, seconds=-1), False),
        (timedelta(days=-365), False),
    ],
)
def test_timestamp_must_be_within_tolerance(offset: timedelta, ok: bool) -> None:
    """A timestamp further than the tolerance from now, either way, is refused (replay guard)."""
    signed = headers(SECRET, MSG_ID, TIMESTAMP, BODY)
    now = at(TIMESTAMP) + offset

    if ok:
        verify(SECRET, signed, BODY, now=now)
    else:
        with pytest.raises(WebhookVerificationError, match="tolerance"):
            verify(SECRET, signed, BODY, now=now)


def test_tolerance_is_configurable() -> None:
    """A wider tolerance accepts an older message."""
    signed = headers(SECRET, MSG_ID, TIMESTAMP, BODY)

    verify(SECRET, signed, BODY, tolerance=timedelta(hours=1), now=at(TIMESTAMP + 3000))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param({"webhook-id": None}, "missing", id="no-id"),
        pytest.param({"webhook-timestamp": None}, "missing", id="no-timestamp"),
        pytest.param({"webhook-signature": None}, "missing", id="no-signature"),
        pytest.param({"webhook-signature": ""}, "missing", id="empty-signature"),
        pytest.param({"webhook-timestamp": f"+{TIMESTAMP}"}, "not a number", id="signed-ts"),
        pytest.param({"webhook-timestamp": f" {TIMESTAMP}"}, "not a number", id="spaced-ts"),
        pytest.param({"webhook-timestamp": "1.5"}, "not a number", id="fractional-ts"),
        pytest.param({"webhook-timestamp": "١٧٤٠٨٣٠٤٠٠"}, "not a number", id="arabic-digits"),
        pytest.param({"webhook-signature": "v1,"}, "no webhook-signature", id="empty-v1"),
        pytest.param({"webhook-signature": "garbage"}, "no webhook-signature", id="garbage"),
    ],
)
def test_malformed_headers_are_refused(change: dict[str, str | None], match: str) -> None:
    """Missing headers, non-numeric timestamps and garbage signatures fail verification."""
    signed: dict[str, str] = headers(SECRET, MSG_ID, TIMESTAMP, BODY)
    for name, value in change.items():
        if value is None:
            del signed[name]
        else:
            signed[name] = value

    with pytest.raises(WebhookVerificationError, match=match):
        verify(SECRET, signed, BODY, now=at(TIMESTAMP))


def test_signature_under_another_version_is_refused() -> None:
    """A correct digest labelled with another version than v1 does not count."""
    signed = headers(SECRET, MSG_ID, TIMESTAMP, BODY)
    signed["webhook-signature"] = signed["webhook-signature"].replace("v1,", "v2,")

    with pytest.raises(WebhookVerificationError):
        verify(SECRET, signed, BODY, now=at(TIMESTAMP))


def test_another_secret_is_refused() -> None:
    """A message signed with another secret fails verification."""
    signed = headers(generate_secret(), MSG_ID, TIMESTAMP, BODY)

    with pytest.raises(WebhookVerificationError):
        verify(SECRET, signed, BODY, now=at(TIMESTAMP))


def test_verification_error_is_a_value_error() -> None:
    """WebhookVerificationError is a ValueError, so generic handlers treat it as bad input."""
    assert issubclass(WebhookVerificationError, ValueError)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("", id="empty"),
        pytest.param("whsec_", id="prefix-only"),
        pytest.param("whsec_not base64!", id="not-base64"),
        pytest.param("whsec_" + base64.b64encode(bytes(16)).decode(), id="too-short"),
        pytest.param("whsec_" + base64.b64encode(bytes(65)).decode(), id="too-long"),
        pytest.param("whsec_" + base64.b64encode(KEY).decode().rstrip("="), id="no-padding"),
    ],
)
def test_malformed_secret_is_a_config_error(secret: str) -> None:
    """A secret that is not whsec_ + base64 of 24-64 bytes is a configuration error."""
    with pytest.raises(ConfigError, match="SYNCLINE_WEBHOOK_SECRET"):
        sign(secret, MSG_ID, TIMESTAMP, BODY)
    with pytest.raises(ConfigError, match="SYNCLINE_WEBHOOK_SECRET"):
        verify(secret, headers(SECRET, MSG_ID, TIMESTAMP, BODY), BODY, now=at(TIMESTAMP))


def test_negative_timestamp_and_naive_now_are_programming_errors() -> None:
    """A negative timestamp or a naive `now` raises ValueError instead of signing or comparing."""
    with pytest.raises(ValueError, match="negative"):
        sign(SECRET, MSG_ID, -1, BODY)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(SECRET, headers(SECRET, MSG_ID, TIMESTAMP, BODY), BODY, now=datetime(2025, 1, 1))

"""SecretBox: encryption of secrets at rest with SYNCLINE_SECRET_KEY."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncline.crypto import SecretBox, generate_key
from syncline.errors import ConfigError


@pytest.fixture(scope="module")
def key() -> str:
    return generate_key()


@given(text=st.text())
def test_decrypt_returns_what_was_encrypted(text: str) -> None:
    """Any text, including empty and non-ASCII, survives an encrypt/decrypt round trip."""
    box = SecretBox("x4Jm2H7sYqTSfN3oVq7yYV0o6i8cAA8cM3rL0m2b4Wg=")

    assert text == box.decrypt(box.encrypt(text))


def test_ciphertext_is_fresh_ascii_without_the_plaintext(key: str) -> None:
    """Each encryption of the same text differs, is ASCII, and does not contain the text."""
    box = SecretBox(key)
    secret = "ya29.refresh-token-value"

    first, second = box.encrypt(secret), box.encrypt(secret)

    assert first != second
    assert first.isascii()
    assert secret not in first


def test_generate_key_is_32_urlsafe_bytes() -> None:
    """Generated keys are 32 random bytes in URL-safe base64 and never repeat."""
    count, expected_sizes = 10, {32}

    keys = {generate_key() for _ in range(count)}

    assert count == len(keys)
    assert expected_sizes == {len(base64.urlsafe_b64decode(k)) for k in keys}


def test_key_read_from_a_file_may_end_with_a_newline(key: str) -> None:
    """Surrounding whitespace, such as a trailing newline, is ignored."""
    expected = "value"
    token = SecretBox(key).encrypt(expected)

    assert expected == SecretBox(f"{key}\n").decrypt(token)


@pytest.mark.parametrize(
    "bad_key",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-key", id="garbage"),
        pytest.param(base64.urlsafe_b64encode(bytes(16)).decode(), id="16-bytes"),
        pytest.param(base64.urlsafe_b64encode(bytes(33)).decode(), id="33-bytes"),
    ],
)
def test_invalid_key_is_a_config_error_naming_the_setting(bad_key: str) -> None:
    """A key that is not 32 bytes of URL-safe base64 is refused, naming SYNCLINE_SECRET_KEY."""
    with pytest.raises(ConfigError, match="SYNCLINE_SECRET_KEY"):
        SecretBox(bad_key)


def test_wrong_key_cannot_decrypt(key: str) -> None:
    """A value encrypted under another key raises ConfigError, not garbage."""
    token = SecretBox(generate_key()).encrypt("value")

    with pytest.raises(ConfigError, match="cannot be decrypted with SYNCLINE_SECRET_KEY"):
        SecretBox(key).decrypt(token)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"), id="tail"),
        pytest.param(lambda t: t[: len(t) // 2], id="truncated"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "not a token", id="garbage"),
        pytest.param(lambda t: "é" + t, id="non-ascii"),
    ],
)
def test_corrupted_token_is_a_config_error(key: str, damage: Callable[[str], str]) -> None:
    """A damaged ciphertext raises ConfigError rather than decrypting to something wrong."""
    box = SecretBox(key)
    token = damage(box.encrypt("value"))

    with pytest.raises(ConfigError, match="cannot be decrypted"):
        box.decrypt(token)


def test_repr_hides_the_key(key: str) -> None:
    """The key never appears in repr, str or the instance's attributes."""
    expected = "SecretBox(key=<hidden>)"

    box = SecretBox(key)

    assert expected == repr(box)
    assert key not in str(box)
    assert not hasattr(box, "__dict__")

"""Cursors are opaque, durable, and refuse tampering."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncline.domain.cursors import CursorCodec
from syncline.errors import InvalidInput

codec = CursorCodec(b"k" * 32)


@given(st.integers(min_value=0, max_value=2**62))
def test_round_trip(position):
    """Any position encodes to a cursor that decodes to the same position."""
    token = codec.encode("r", "sync-a", position)

    assert position == codec.decode("r", "sync-a", token)


def test_same_key_same_cursor_after_restart():
    """A cursor stays valid for a new codec built from the same key (a server restart)."""
    token = codec.encode("r", "sync-a", 121)

    assert 121 == CursorCodec(b"k" * 32).decode("r", "sync-a", token)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: base64.urlsafe_b64encode(b"r:999:" + b"0" * 24).decode(),
        lambda t: "not-a-cursor",
        lambda t: "",
        lambda t: "%%%",
    ],
)
def test_tampered_cursor_is_refused(mutate):
    """A cursor changed in any way is refused with INVALID_CURSOR."""
    token = mutate(codec.encode("r", "sync-a", 5))

    with pytest.raises(InvalidInput) as info:
        codec.decode("r", "sync-a", token)

    assert "INVALID_CURSOR" == info.value.code


def test_cursor_of_another_sync_is_refused():
    """A cursor issued for one sync cannot page another sync's records."""
    token = codec.encode("r", "sync-a", 5)

    with pytest.raises(InvalidInput):
        codec.decode("r", "sync-b", token)


def test_cursor_of_another_kind_is_refused():
    """A records cursor is not accepted as an events cursor."""
    with pytest.raises(InvalidInput):
        codec.decode("e", "sync-a", codec.encode("r", "sync-a", 5))

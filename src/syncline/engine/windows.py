"""Cursors of modified-since windows: ISO-8601 high-water marks (`ChangeStrategy.WINDOW`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncline.domain.notifications import iso
from syncline.errors import CursorInvalid

__all__ = ["later", "shifted"]


def _parse(mark: str) -> datetime:
    try:
        moment = datetime.fromisoformat(mark.replace("Z", "+00:00"))
    except ValueError:
        raise CursorInvalid(f"the window mark {mark!r} is not an ISO-8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def shifted(mark: str, by: timedelta) -> str:
    """The mark moved by `by` (negative: earlier), in the same ISO-8601 UTC form.

    Raises:
        CursorInvalid: the mark is not a time (a full resync follows).
    """
    return iso(_parse(mark).astimezone(UTC) + by)


def later(mark: str, other: str) -> str:
    """The later of two marks (as written: the newer one is kept verbatim)."""
    return other if _parse(other) > _parse(mark) else mark

"""Durations as operators write them in settings: `90s`, `10m`, `1h`, `3d`, or `0`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def parse_duration(text: str) -> timedelta:
    """`text` as a duration: a number and one unit (s, m, h or d), or a bare `0`.

    Raises:
        ValueError: anything else, with a message that shows the accepted forms.
    """
    if text.strip() == "0":
        return timedelta(0)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 90s, 10m, 1h or 3d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})

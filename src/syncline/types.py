"""Type aliases shared by every layer."""

from typing import TypeAlias

JSON: TypeAlias = str | int | float | bool | list["JSON"] | dict[str, "JSON"] | None
"""Any value that survives a JSON round trip."""

JSONObject: TypeAlias = dict[str, JSON]
"""A JSON object."""

Checkpoint: TypeAlias = JSONObject
"""Where a connector's listing resumes; opaque to everyone but the connector."""

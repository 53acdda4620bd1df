"""Google partial-response `fields` selectors: parse, validate against a schema, apply.

Syntax (as Google documents it): a comma list of selections; `a/b` selects `b` inside `a`;
`a(b,c)` selects `b` and `c` inside `a` (for a list, inside each element); `*` selects all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TypeAlias

from syncline.types import JSON

__all__ = [
    "ANY_OBJECT",
    "FieldsError",
    "Mask",
    "Schema",
    "merge",
    "parse_fields",
    "select",
    "validate",
]

Mask: TypeAlias = dict[str, "Mask | None"]
"""Selected names; a value of None selects that name's whole subtree."""

Schema: TypeAlias = Mapping[str, "Schema | None"]
"""Names a resource has; None marks a scalar, a mapping an object (or list of objects)."""


class FieldsError(ValueError):
    """A selector that is malformed or names something the resource lacks."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid field selection {name}")
        self.name = name


class _AnyObject(Mapping[str, "Schema | None"]):
    """An object whose members the fake does not model: any selection inside it is valid."""

    def __getitem__(self, key: str) -> Schema | None:
        return self

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


ANY_OBJECT: Schema = _AnyObject()

_TOKEN = re.compile(r"\s*(?:([A-Za-z0-9_*]+)|(.))")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for name, char in _TOKEN.findall(text):
        if name:
            out.append(name)
        elif char and not char.isspace():
            out.append(char)
    return out


def merge(into: Mask, name: str, sub: Mask | None) -> None:
    """Add one selection; a whole-subtree selection absorbs narrower ones."""
    if name not in into:
        into[name] = sub
        return
    current = into[name]
    if current is None or sub is None:
        into[name] = None
        return
    for key, value in sub.items():
        merge(current, key, value)


def parse_fields(text: str) -> Mask:
    """Parse a `fields` value into a mask.

    Raises:
        FieldsError: the text is not a well-formed selector.
    """
    tokens = _tokens(text)
    pos = 0

    def parse_list() -> Mask:
        nonlocal pos
        mask: Mask = {}
        while True:
            path = [expect_name()]
            while pos < len(tokens) and tokens[pos] == "/":
                pos += 1
                path.append(expect_name())
            sub: Mask | None = None
            if pos < len(tokens) and tokens[pos] == "(":
                pos += 1
                sub = parse_list()
                if pos >= len(tokens) or tokens[pos] != ")":
                    raise FieldsError(text)
                pos += 1
            for name in reversed(path[1:]):
                sub = {name: sub}
            merge(mask, path[0], sub)
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            return mask

    def expect_name() -> str:
        nonlocal pos
        if pos >= len(tokens) or not re.fullmatch(r"[A-Za-z0-9_*]+", tokens[pos]):
            raise FieldsError(tokens[pos] if pos < len(tokens) else text)
        pos += 1
        return tokens[pos - 1]

    mask = parse_list()
    if pos != len(tokens):
        raise FieldsError(tokens[pos])
    return mask


def validate(mask: Mask, schema: Schema) -> None:
    """Check every selected name exists in `schema`.

    Raises:
        FieldsError: naming the first unknown field, as Google's message does.
    """
    for name, sub in mask.items():
        if name == "*":
            continue
        if name not in schema:
            raise FieldsError(name)
        child = schema[name]
        if sub is not None:
            if child is None:
                raise FieldsError(name)
            validate(sub, child)


def select(value: JSON, mask: Mask | None) -> JSON:
    """Keep only the selected parts of an already rendered value."""
    if mask is None or "*" in mask:
        return value
    if isinstance(value, list):
        return [select(item, mask) for item in value]
    if isinstance(value, dict):
        return {name: select(value[name], sub) for name, sub in mask.items() if name in value}
    return value

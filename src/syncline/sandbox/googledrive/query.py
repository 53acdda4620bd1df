"""The `q` subset a sync uses: parents, trashed and mimeType terms joined by and/or.

Supported terms: `'<id>' in parents`, `trashed = true|false` (also `!=`), `mimeType = '<t>'`,
`mimeType != '<t>'`; combined with `and`, `or` and parentheses. Anything else is refused,
so a connector never relies on a query the fake would silently misread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from syncline.sandbox.googledrive.model import DriveFile

__all__ = ["Query", "QueryError", "parse_query"]

Predicate: TypeAlias = Callable[[DriveFile], bool]


class QueryError(ValueError):
    """`q` is outside the supported subset or malformed."""


@dataclass(frozen=True, slots=True)
class _InParents:
    folder: str


@dataclass(frozen=True, slots=True)
class _Compare:
    field: str  # "trashed" or "mimeType"
    negate: bool
    value: str | bool


@dataclass(frozen=True, slots=True)
class _Bool:
    op: str  # "and" or "or"
    terms: tuple[_Node, ...]


_Node: TypeAlias = _InParents | _Compare | _Bool

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>!=|=)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise QueryError(text)
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "word" and value.lower() in {"and", "or", "in", "parents", "true", "false"}:
            value = value.lower()
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise QueryError(f"unexpected {token}")
        self.pos += 1
        return token[1]

    def expr(self, op: str = "or") -> _Node:
        inner = "and" if op == "or" else None
        terms = [self.expr(inner) if inner else self.atom()]
        while self.peek() == ("word", op):
            self.pos += 1
            terms.append(self.expr(inner) if inner else self.atom())
        return terms[0] if len(terms) == 1 else _Bool(op, tuple(terms))

    def atom(self) -> _Node:
        token = self.peek()
        if token == ("paren", "("):
            self.pos += 1
            node = self.expr()
            self.take("paren", ")")
            return node
        if token is not None and token[0] == "str":
            folder = self.take("str")
            self.take("word", "in")
            self.take("word", "parents")
            return _InParents(folder)
        field = self.take("word")
        negate = self.take("op") == "!="
        if field == "trashed":
            value = self.take("word")
            if value not in ("true", "false"):
                raise QueryError(f"trashed needs true or false, not {value}")
            return _Compare(field, negate, value == "true")
        if field == "mimeType":
            return _Compare(field, negate, self.take("str"))
        raise QueryError(f"unsupported term {field}")


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed `q`: a predicate, plus the folders to walk when the query pins them."""

    matches: Predicate
    folders: tuple[str, ...] | None


def _compile(node: _Node, resolve: Callable[[str], str]) -> Predicate:
    if isinstance(node, _InParents):
        folder = resolve(node.folder)
        return lambda f: f.parent == folder
    if isinstance(node, _Compare):
        negate, value = node.negate, node.value
        if node.field == "trashed":
            return lambda f: (f.trashed == value) != negate
        return lambda f: (f.mime_type == value) != negate
    parts = [_compile(term, resolve) for term in node.terms]
    if node.op == "and":
        return lambda f: all(part(f) for part in parts)
    return lambda f: any(part(f) for part in parts)


def _folders(node: _Node, resolve: Callable[[str], str]) -> tuple[str, ...] | None:
    """Parents every match must have, so listing can walk their children, not everything."""
    if isinstance(node, _InParents):
        return (resolve(node.folder),)
    if isinstance(node, _Compare):
        return None
    if node.op == "or":
        found: list[str] = []
        for term in node.terms:
            sub = _folders(term, resolve)
            if sub is None:
                return None
            found.extend(f for f in sub if f not in found)
        return tuple(found)
    for term in node.terms:
        sub = _folders(term, resolve)
        if sub is not None:
            return sub
    return None


def parse_query(text: str, resolve: Callable[[str], str] = lambda x: x) -> Query:
    """Parse `q`; `resolve` maps aliases such as `root` to real folder ids.

    Raises:
        QueryError: the query is malformed or outside the supported subset.
    """
    parser = _Parser(text)
    node = parser.expr()
    if parser.peek() is not None:
        raise QueryError(f"trailing {parser.peek()}")
    return Query(_compile(node, resolve), _folders(node, resolve))

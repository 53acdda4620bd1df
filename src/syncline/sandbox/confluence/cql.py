"""The part of the Confluence Query Language a sync client needs, parsed as Confluence does
and refused as Confluence refuses (developer.atlassian.com/cloud/confluence/
advanced-searching-using-cql, cql-fields, cql-operators, cql-keywords, cql-functions).

Grammar: clauses `field operator value`, joined by `AND` / `OR`, negated by `NOT`, grouped with
parentheses, then an optional `ORDER BY field [ASC|DESC], ...`. Values are quoted (`"..."` or
`'...'`) or bare words; lists are `(a, b)` after `IN` / `NOT IN`.

Fields emulated (with the operators the field reference allows for them):

| field | operators | matches |
| --- | --- | --- |
| `type` | `= != IN NOT IN` | `page` (other content types exist but the sandbox has none) |
| `space`, `space.key` | `= != IN NOT IN` | the page's space key |
| `space.id` | `= != IN NOT IN` | the page's space id |
| `id`, `content` | `= != IN NOT IN` | the page's id |
| `ancestor` | `= != IN NOT IN` | pages below the given page (not the page itself) |
| `parent` | `= != IN NOT IN` | the given page's children |
| `title` | `= != ~ !~` | exact title; `~` every word of the value, case-insensitive |
| `lastmodified`, `created` | `= != > >= < <=` | a date (below) or a date function |

The date functions are `now()`, `startOfDay()` and `endOfDay()`, with an optional increment
such as `"-2d"` (weeks, days, hours or minutes).

Dates are `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd` or `yyyy-MM-dd` (the field
reference's formats, as JQL's), read **in the site's time zone** at minute (or day) precision.

What is refused, and how:

- Anything the grammar does not accept (an ISO timestamp with `T`/seconds/offset, an unquoted
  value with spaces, a missing operand, an operator a field does not take, an unbalanced
  parenthesis, a first clause that is negative: "Currently a negative expression cannot be the
  first clause in a CQL statement"): 400 `BadRequestException: Could not parse cql : <cql>`.
- A field Confluence does not have: 400 `BadRequestException: No field exists with the name:
  'x'` (a real response quoted in cohere-ai/quick-start-connectors#164).
- A field Confluence has but the sandbox does not emulate (`label`, `creator`, `text`, ...):
  400 in the same envelope saying so; that answer is the sandbox's, never Confluence's.

Comparisons with a date (GUESS, by analogy with JQL, which documents the same formats): the
value stands for the first instant of its minute (or day) in the site's zone; `>=` and `>`
compare the page's last modification (kept to the millisecond) with that instant, and `=`
means "within that minute (or day)". So an edit at 10:00:30 matches `>= "… 10:00"` and
`> "… 10:00"` but not `>= "… 10:01"`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from syncline.sandbox.confluence.errors import cql_error, v1_error
from syncline.sandbox.confluence.state import ConfluenceState, Page

__all__ = ["Query", "parse_cql"]

Predicate = Callable[[Page], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s()=!<>~,"']+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "order", "by", "asc", "desc"}
_DATE = re.compile(r"^(\d{4})([/-])(\d{2})\2(\d{2})(?: (\d{2}):(\d{2}))?$")
_INCREMENT = re.compile(r"^([+-]?)(\d+)([wdhm])$")

_LIST_OPS = ("=", "!=", "in", "not in")
_FIELD_OPS: dict[str, tuple[str, ...]] = {
    "type": _LIST_OPS,
    "space": _LIST_OPS,
    "space.key": _LIST_OPS,
    "space.id": _LIST_OPS,
    "id": _LIST_OPS,
    "content": _LIST_OPS,
    "ancestor": _LIST_OPS,
    "parent": _LIST_OPS,
    "title": ("=", "!=", "~", "!~"),
    "lastmodified": ("=", "!=", ">", ">=", "<", "<="),
    "created": ("=", "!=", ">", ">=", "<", "<="),
}
_UNEMULATED = {
    "label", "creator", "contributor", "mention", "text", "sitesearch", "watcher",
    "favourite", "favorite", "container", "macro", "space.title", "space.type", "user",
    "user.fullname", "user.accountid", "content.property", "space.category",
}  # fmt: skip
_ORDER_FIELDS = {"lastmodified", "created", "title", "id"}


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: which pages match, and the order (field, descending) asked for."""

    matches: Predicate
    order: tuple[tuple[str, bool], ...]
    types: frozenset[str] | None
    """The content types named by `type` clauses at the top level (None: any)."""


@dataclass(frozen=True, slots=True)
class _Instant:
    """What a date function evaluated to."""

    epoch: float


Value = str | _Instant


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string | op | punct | word
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()


def parse_cql(cql: str, state: ConfluenceState) -> Query:
    """Parse `cql` against the site in `state`.

    Raises:
        ConfluenceError: 400 in the v1 envelope, as Confluence refuses the query.
    """
    if not cql.strip():
        raise cql_error(cql)
    return _Parser(cql, _tokens(cql), state).query()


def _tokens(cql: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    text = cql.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise cql_error(cql)
        kind = match.lastgroup or "word"
        found.append(_Token(kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    def __init__(self, cql: str, tokens: list[_Token], state: ConfluenceState) -> None:
        self.cql = cql
        self.tokens = tokens
        self.at = 0
        self.state = state
        self.first_clause = True
        self.types: set[str] | None = None

    # -- token helpers ------------------------------------------------------------------------

    def _peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise cql_error(self.cql)
        self.at += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "word" and token.lower == word:
            self.at += 1
            return True
        return False

    def _expect_punct(self, text: str) -> None:
        token = self._next()
        if token.kind != "punct" or token.text != text:
            raise cql_error(self.cql)

    # -- grammar ------------------------------------------------------------------------------

    def query(self) -> Query:
        matches: Predicate = lambda _page: True  # noqa: E731 - "ORDER BY" alone
        token = self._peek()
        if token is not None and not (token.kind == "word" and token.lower == "order"):
            matches = self._or()
        order: list[tuple[str, bool]] = []
        if self._keyword("order"):
            if not self._keyword("by"):
                raise cql_error(self.cql)
            while True:
                name = self._next()
                if name.kind != "word" or name.lower not in _ORDER_FIELDS:
                    raise cql_error(self.cql)
                descending = False
                if self._keyword("desc"):
                    descending = True
                else:
                    self._keyword("asc")
                order.append((name.lower, descending))
                following = self._peek()
                if following is None:
                    break
                self._expect_punct(",")
        if self._peek() is not None:
            raise cql_error(self.cql)
        types = frozenset(self.types) if self.types is not None else None
        return Query(matches, tuple(order), types)

    def _or(self) -> Predicate:
        terms = [self._and()]
        while self._keyword("or"):
            terms.append(self._and())
        if len(terms) == 1:
            return terms[0]
        return lambda page: any(term(page) for term in terms)

    def _and(self) -> Predicate:
        factors = [self._factor()]
        while self._keyword("and"):
            factors.append(self._factor())
        if len(factors) == 1:
            return factors[0]
        return lambda page: all(factor(page) for factor in factors)

    def _factor(self) -> Predicate:
        if self._keyword("not"):
            self._negative()
            inner = self._factor()
            return lambda page: not inner(page)
        token = self._peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            self.at += 1
            inner = self._or()
            self._expect_punct(")")
            return inner
        return self._clause()

    def _negative(self) -> None:
        if self.first_clause:
            raise cql_error(self.cql)

    def _clause(self) -> Predicate:
        field_token = self._next()
        if field_token.kind != "word" or field_token.lower in _KEYWORDS:
            raise cql_error(self.cql)
        name = field_token.lower
        if name not in _FIELD_OPS:
            if name in _UNEMULATED:
                raise v1_error(
                    400,
                    f"The Syncline sandbox does not emulate the CQL field '{field_token.text}'",
                )
            raise v1_error(
                400,
                "com.atlassian.confluence.api.service.exceptions.BadRequestException: "
                f"No field exists with the name: '{field_token.text}'",
            )
        operator = self._operator()
        if operator not in _FIELD_OPS[name]:
            raise cql_error(self.cql)
        if operator in ("!=", "!~", "not in"):
            self._negative()
        self.first_clause = False
        listed = operator in ("in", "not in")
        values: list[Value] = self._list() if listed else [self._value(name)]
        predicate = self._field(name, operator, values)
        if operator in ("!=", "!~", "not in"):
            positive = predicate
            return lambda page: not positive(page)
        return predicate

    def _operator(self) -> str:
        token = self._next()
        if token.kind == "op":
            return token.text
        if token.kind == "word" and token.lower == "in":
            return "in"
        if token.kind == "word" and token.lower == "not" and self._keyword("in"):
            return "not in"
        raise cql_error(self.cql)

    def _list(self) -> list[Value]:
        self._expect_punct("(")
        values = [self._value(None)]
        while True:
            token = self._next()
            if token.kind == "punct" and token.text == ")":
                return values
            if token.kind != "punct" or token.text != ",":
                raise cql_error(self.cql)
            values.append(self._value(None))

    def _value(self, name: str | None) -> Value:
        token = self._next()
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind != "word" or token.lower in _KEYWORDS:
            raise cql_error(self.cql)
        following = self._peek()
        if following is not None and following.kind == "punct" and following.text == "(":
            if name not in ("lastmodified", "created"):
                raise cql_error(self.cql)
            return self._function(token.text)
        return token.text

    def _function(self, function: str) -> _Instant:
        """`now()`, `startOfDay()`, `endOfDay()` (optionally with an increment such as
        `"-2d"`), evaluated now and returned as an ISO instant the date parser accepts."""
        self._expect_punct("(")
        argument: str | None = None
        token = self._next()
        if not (token.kind == "punct" and token.text == ")"):
            if token.kind not in ("string", "word"):
                raise cql_error(self.cql)
            argument = _unquote(token.text) if token.kind == "string" else token.text
            self._expect_punct(")")
        known = {"now": "now", "startofday": "start", "endofday": "end"}
        if function.lower() not in known:
            raise v1_error(
                400, f"The Syncline sandbox does not emulate the CQL function '{function}()'"
            )
        zone = self.state.zone
        moment = datetime.fromtimestamp(self.state.clock(), zone)
        if argument:
            increment = _INCREMENT.match(argument.replace(" ", ""))
            if increment is None:
                raise cql_error(self.cql)
            sign, amount, unit = increment.groups()
            delta = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
                     "m": timedelta(minutes=1)}[unit] * int(amount)  # fmt: skip
            moment = moment - delta if sign == "-" else moment + delta
        kind = known[function.lower()]
        if kind == "start":
            moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        elif kind == "end":
            moment = moment.replace(hour=23, minute=59, second=59, microsecond=999000)
        return _Instant(moment.timestamp())

    # -- fields -------------------------------------------------------------------------------

    def _field(self, name: str, operator: str, given: list[Value]) -> Predicate:
        state = self.state
        if name in ("lastmodified", "created"):
            return self._date(name, operator, given[0])
        values = [v for v in given if isinstance(v, str)]
        if name == "type":
            wanted = {v.lower() for v in values}
            if operator in ("=", "in"):
                self.types = wanted if self.types is None else self.types & wanted
            return lambda _page: "page" in wanted
        if name in ("space", "space.key"):
            keys = {v.upper() for v in values}
            return lambda page: state.spaces[page.space_id].key.upper() in keys
        if name == "space.id":
            ids = set(values)
            return lambda page: page.space_id in ids
        if name in ("id", "content"):
            ids = set(values)
            return lambda page: page.id in ids
        if name == "ancestor":
            ancestors = set(values)
            return lambda page: any(a in ancestors for a in state.ancestor_ids(page))
        if name == "parent":
            parents = set(values)
            return lambda page: page.parent_id in parents
        if name == "title":
            value = values[0]
            if operator in ("=", "!="):
                return lambda page: page.title == value
            words = [w for w in re.split(r"\W+", value.casefold()) if w]
            return lambda page: all(w in _words(page.title) for w in words)
        raise cql_error(self.cql)

    def _date(self, name: str, operator: str, value: Value) -> Predicate:
        if isinstance(value, _Instant):
            start, span = value.epoch, 60.0
        else:
            parsed = _parse_date(value, self.state.zone)
            if parsed is None:
                raise cql_error(self.cql)
            start, span = parsed

        def stamp(page: Page) -> float:
            return page.modified if name == "lastmodified" else page.created

        comparisons: dict[str, Predicate] = {
            "=": lambda page: start <= stamp(page) < start + span,
            "!=": lambda page: start <= stamp(page) < start + span,  # negated by the caller
            ">": lambda page: stamp(page) > start,
            ">=": lambda page: stamp(page) >= start,
            "<": lambda page: stamp(page) < start,
            "<=": lambda page: stamp(page) <= start,
        }
        return comparisons[operator]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _words(title: str) -> set[str]:
    return {w for w in re.split(r"\W+", title.casefold()) if w}


def _parse_date(value: str, zone: ZoneInfo) -> tuple[float, float] | None:
    """(first instant, length in seconds) of a CQL date in the site's zone, or None."""
    match = _DATE.match(value)
    if match is None:
        return None
    year, _, month, day, hour, minute = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=zone
        )
    except ValueError:
        return None
    return moment.timestamp(), (60.0 if hour is not None else 86400.0)

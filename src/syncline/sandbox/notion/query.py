"""Filters and sorts of a database (or data source) query, as reference/post-database-query-filter
and -sort describe them: property filters by type (`{"property": "Done", "checkbox": {"equals":
true}}`), timestamp filters (`{"timestamp": "last_edited_time", "last_edited_time":
{"on_or_after": "2024-05-01T10:00:00Z"}}`), `and`/`or` compounds, and a list of property or
timestamp sorts.

Times compare as the API shows them, rounded down to the minute. GUESSES: text `contains` ignores
case and `equals` does not; empty values sort last either way; a query without sorts comes
newest created first; relative dates (`past_week`...) are measured from now in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from syncline.sandbox.notion.content import plain_text
from syncline.sandbox.notion.errors import NotionError, shown, validation
from syncline.sandbox.notion.state import Database, NotionState, Page
from syncline.types import JSON, JSONObject

__all__ = ["compile_filter", "order_rows"]

Predicate = Callable[[Page], bool]

_TEXT = ("title", "rich_text", "url", "email", "phone_number")
_TEXT_OPS = frozenset(
    {"equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with"}
    | {"is_empty", "is_not_empty"}
)
_NUMBER_OPS = frozenset(
    {"equals", "does_not_equal", "greater_than", "less_than", "greater_than_or_equal_to"}
    | {"less_than_or_equal_to", "is_empty", "is_not_empty"}
)
_DATE_OPS = frozenset(
    {"equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty"}
    | {"past_week", "past_month", "past_year", "next_week", "next_month", "next_year"}
    | {"this_week"}
)
_OPS: dict[str, frozenset[str]] = {
    **dict.fromkeys(_TEXT, _TEXT_OPS),
    "number": _NUMBER_OPS,
    "checkbox": frozenset({"equals", "does_not_equal"}),
    "select": frozenset({"equals", "does_not_equal", "is_empty", "is_not_empty"}),
    "status": frozenset({"equals", "does_not_equal", "is_empty", "is_not_empty"}),
    "multi_select": frozenset({"contains", "does_not_contain", "is_empty", "is_not_empty"}),
    **dict.fromkeys(("date", "created_time", "last_edited_time"), _DATE_OPS),
    **dict.fromkeys(
        ("people", "created_by", "last_edited_by"),
        frozenset({"contains", "does_not_contain", "is_empty", "is_not_empty"}),
    ),
}


def compile_filter(
    state: NotionState, db: Database, raw: JSON, path: str = "body.filter"
) -> Predicate:
    """A predicate on rows for a query's `filter`.

    Raises:
        NotionError: 400 `validation_error` for a malformed filter or an unknown property.
    """
    if not isinstance(raw, dict):
        raise validation(
            f"body failed validation: {path} should be an object, instead was {shown(raw)}."
        )
    for compound in ("and", "or"):
        if compound in raw:
            parts = raw[compound]
            if not isinstance(parts, list):
                raise validation(
                    f"body failed validation: {path}.{compound} should be an array, instead was "
                    f"{shown(parts)}."
                )
            predicates = [
                compile_filter(state, db, part, f"{path}.{compound}[{i}]")
                for i, part in enumerate(parts)
            ]
            if compound == "and":
                return lambda page: all(p(page) for p in predicates)
            return lambda page: any(p(page) for p in predicates)
    if "timestamp" in raw:
        kind = raw["timestamp"]
        if kind not in ("created_time", "last_edited_time"):
            raise validation(
                f'body failed validation: {path}.timestamp should be `"created_time"` or '
                f'`"last_edited_time"`, instead was {shown(kind)}.'
            )
        stamp = str(kind)
        condition = _condition(raw, stamp, path)
        return _date_test(condition, lambda page: _timestamp(page, stamp), path)
    name = raw.get("property")
    if not isinstance(name, str):
        raise validation(
            f"body failed validation: {path}.property should be defined, instead was `undefined`."
        )
    config = _property(db, name)
    kind = str(config["type"])
    condition = _condition(raw, kind, path)
    return _property_test(state, config, condition, path)


def _property(db: Database, name: str) -> JSONObject:
    for prop_name, config in db.schema.items():
        if name in (prop_name, config["id"]):
            return config
    raise validation(f"Could not find property with name or id: {name}")


def _condition(raw: JSONObject, kind: str, path: str) -> tuple[str, JSON]:
    body = raw.get(kind)
    if not isinstance(body, dict):
        # GUESS: Notion names the key the property's type calls for.
        raise validation(
            f"body failed validation: {path}.{kind} should be defined, instead was `undefined`."
        )
    allowed = _OPS[kind]
    given = [op for op in body if op in allowed]
    unknown = [op for op in body if op not in allowed]
    if unknown or len(given) != 1:
        bad = unknown[0] if unknown else "(none)"
        raise validation(
            f"body failed validation: {path}.{kind} should have exactly one of "
            f"{', '.join(sorted(allowed))}, instead had {bad}."
        )
    return given[0], body[given[0]]


def _timestamp(page: Page, kind: str) -> datetime:
    epoch = page.created if kind == "created_time" else page.edited
    return datetime.fromtimestamp(epoch - epoch % 60, UTC)


def _property_test(
    state: NotionState, config: JSONObject, condition: tuple[str, JSON], path: str
) -> Predicate:
    name, kind = str(config["name"]), str(config["type"])
    op, value = condition
    if kind in ("created_time", "last_edited_time"):
        return _date_test(condition, lambda page: _timestamp(page, kind), path)
    if kind == "date":

        def start(page: Page) -> datetime | None:
            raw = page.values.get(name)
            return _parse(raw.get("start")) if isinstance(raw, dict) else None

        return _date_test(condition, start, path)
    if kind in _TEXT:
        return _text_test(op, value, lambda page: _text(page.values.get(name)), path)
    if kind == "number":
        return _number_test(op, value, lambda page: page.values.get(name), path)
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise _bad_value(path, kind, op, "a boolean", value)
        return lambda page: (
            bool(page.values.get(name)) == value
            if op == "equals"
            else bool(page.values.get(name)) != value
        )
    if kind in ("select", "status"):
        if op in ("is_empty", "is_not_empty"):
            return lambda page: (page.values.get(name) is None) == (op == "is_empty")
        if not isinstance(value, str):
            raise _bad_value(path, kind, op, "a string", value)
        if op == "equals":
            return lambda page: page.values.get(name) == value
        return lambda page: page.values.get(name) != value
    members: Callable[[Page], list[JSON]]
    if kind == "multi_select":

        def members(page: Page) -> list[JSON]:
            raw = page.values.get(name)
            return raw if isinstance(raw, list) else []
    else:  # people, created_by, last_edited_by

        def members(page: Page) -> list[JSON]:
            if kind == "created_by":
                return [page.created_by]
            if kind == "last_edited_by":
                return [page.edited_by]
            raw = page.values.get(name)
            return raw if isinstance(raw, list) else []

    if op in ("is_empty", "is_not_empty"):
        return lambda page: (not members(page)) == (op == "is_empty")
    if not isinstance(value, str):
        raise _bad_value(path, kind, op, "a string", value)
    if op == "contains":
        return lambda page: value in members(page)
    return lambda page: value not in members(page)


def _text(raw: JSON) -> str:
    if isinstance(raw, list):
        return plain_text(raw)
    return raw if isinstance(raw, str) else ""


def _text_test(op: str, value: JSON, get: Callable[[Page], str], path: str) -> Predicate:
    if op == "is_empty":
        return lambda page: get(page) == ""
    if op == "is_not_empty":
        return lambda page: get(page) != ""
    if not isinstance(value, str):
        raise _bad_value(path, "text", op, "a string", value)
    needle = value.lower()
    tests: dict[str, Predicate] = {
        "equals": lambda page: get(page) == value,
        "does_not_equal": lambda page: get(page) != value,
        "contains": lambda page: needle in get(page).lower(),
        "does_not_contain": lambda page: needle not in get(page).lower(),
        "starts_with": lambda page: get(page).lower().startswith(needle),
        "ends_with": lambda page: get(page).lower().endswith(needle),
    }
    return tests[op]


def _number_test(op: str, value: JSON, get: Callable[[Page], JSON], path: str) -> Predicate:
    if op == "is_empty":
        return lambda page: get(page) is None
    if op == "is_not_empty":
        return lambda page: get(page) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_value(path, "number", op, "a number", value)

    def number(page: Page) -> float | None:
        raw = get(page)
        return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None

    compare: dict[str, Callable[[float, float], bool]] = {
        "equals": lambda a, b: a == b,
        "does_not_equal": lambda a, b: a != b,
        "greater_than": lambda a, b: a > b,
        "less_than": lambda a, b: a < b,
        "greater_than_or_equal_to": lambda a, b: a >= b,
        "less_than_or_equal_to": lambda a, b: a <= b,
    }
    test = compare[op]
    return lambda page: (n := number(page)) is not None and test(n, float(value))


def _parse(raw: JSON) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _date_test(
    condition: tuple[str, JSON], get: Callable[[Page], datetime | None], path: str
) -> Predicate:
    op, value = condition
    if op == "is_empty":
        return lambda page: get(page) is None
    if op == "is_not_empty":
        return lambda page: get(page) is not None
    now = datetime.now(UTC)
    spans = {
        "past_week": (now - timedelta(days=7), now),
        "past_month": (now - timedelta(days=30), now),
        "past_year": (now - timedelta(days=365), now),
        "next_week": (now, now + timedelta(days=7)),
        "next_month": (now, now + timedelta(days=30)),
        "next_year": (now, now + timedelta(days=365)),
        "this_week": (now - timedelta(days=now.weekday()), now + timedelta(days=7 - now.weekday())),
    }
    if op in spans:
        low, high = spans[op]
        return lambda page: (moment := get(page)) is not None and low <= moment <= high
    when = _parse(value)
    if when is None:
        raise _bad_value(path, "date", op, "an ISO 8601 date", value)
    day_only = isinstance(value, str) and len(value) == 10
    if op == "equals":
        if day_only:
            return lambda page: (m := get(page)) is not None and m.date() == when.date()
        return lambda page: get(page) == when
    compare: dict[str, Callable[[datetime, datetime], bool]] = {
        "before": lambda a, b: a < b,
        "after": lambda a, b: a > b if not day_only else a.date() > b.date(),
        "on_or_before": lambda a, b: a <= b if not day_only else a.date() <= b.date(),
        "on_or_after": lambda a, b: a >= b,
    }
    test = compare[op]
    return lambda page: (m := get(page)) is not None and test(m, when)


def _bad_value(path: str, kind: str, op: str, expected: str, value: JSON) -> NotionError:
    return validation(
        f"body failed validation: {path}.{kind}.{op} should be {expected}, instead was "
        f"{shown(value)}."
    )


def order_rows(state: NotionState, db: Database, rows: list[Page], sorts: JSON) -> list[Page]:
    """`rows` ordered by `sorts` (the first sort wins, later ones break ties).

    Raises:
        NotionError: 400 `validation_error` for a malformed sort or an unknown property.
    """
    if sorts is None:
        return sorted(rows, key=lambda p: (p.created, p.id), reverse=True)
    if not isinstance(sorts, list):
        raise validation(
            f"body failed validation: body.sorts should be an array, instead was {shown(sorts)}."
        )
    ordered = sorted(rows, key=lambda p: (p.created, p.id), reverse=True)
    for index in reversed(range(len(sorts))):
        sort = sorts[index]
        where = f"body.sorts[{index}]"
        if not isinstance(sort, dict):
            raise validation(
                f"body failed validation: {where} should be an object, instead was {shown(sort)}."
            )
        direction = sort.get("direction")
        if direction not in ("ascending", "descending"):
            raise validation(
                f'body failed validation: {where}.direction should be `"ascending"` or '
                f'`"descending"`, instead was {shown(direction)}.'
            )
        key = _sort_key(db, sort, where)
        present = [p for p in ordered if key(p) is not None]
        empty = [p for p in ordered if key(p) is None]
        present.sort(key=key, reverse=direction == "descending")  # type: ignore[arg-type]
        ordered = present + empty
    return ordered


def _sort_key(db: Database, sort: JSONObject, where: str) -> Callable[[Page], object]:
    if "timestamp" in sort:
        kind = sort["timestamp"]
        if kind not in ("created_time", "last_edited_time"):
            raise validation(
                f'body failed validation: {where}.timestamp should be `"created_time"` or '
                f'`"last_edited_time"`, instead was {shown(kind)}.'
            )
        return lambda page: page.created if kind == "created_time" else page.edited
    name = sort.get("property")
    if not isinstance(name, str):
        raise validation(
            f"body failed validation: {where}.property should be defined, instead was `undefined`."
        )
    config = _property(db, name)
    prop, kind = str(config["name"]), str(config["type"])

    def key(page: Page) -> object:
        if kind == "created_time":
            return page.created
        if kind == "last_edited_time":
            return page.edited
        raw = page.values.get(prop)
        if kind in ("title", "rich_text"):
            text = _text(raw)
            return text.lower() if text else None
        if kind == "checkbox":
            return bool(raw)
        if kind == "date":
            return _parse(raw.get("start")) if isinstance(raw, dict) else None
        if kind in ("multi_select", "people"):
            return ",".join(str(v) for v in raw) if isinstance(raw, list) and raw else None
        if kind in ("created_by", "last_edited_by"):
            return page.created_by if kind == "created_by" else page.edited_by
        return raw

    return key

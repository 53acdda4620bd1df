"""Rich text and blocks: builders in Notion's *request* shape (what `PATCH
/v1/blocks/{id}/children` takes), and their normalisation to the *response* shape the fake
stores and serves.

A rich text item in a response always has `type`, its content (`text: {content, link}` or
`equation: {expression}`), `annotations` with all six keys, `plain_text` and `href` (the link's
URL or null) (reference/rich-text; the SDK's `RichTextItemResponseCommon`). Block payloads get
the defaults Notion fills in: `color: "default"`, `is_toggleable: false` on headings, `checked:
false` on to-dos, `caption: []` on media, code and bookmarks (the SDK's block response types).

    state.append_blocks(page, [
        heading(1, "Plan"),
        paragraph("Ship the ", text("sync engine", bold=True), ", then ", text("docs", link="https://example.com")),
        toggle("Details", children=[bulleted("one"), bulleted("two")]),
    ])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from syncline.types import JSON, JSONObject

__all__ = [
    "BLOCK_TYPES",
    "COLORS",
    "bookmark",
    "bulleted",
    "callout",
    "code",
    "divider",
    "emoji_icon",
    "equation",
    "equation_text",
    "external_file",
    "heading",
    "image",
    "normalize_block",
    "normalize_rich_text",
    "numbered",
    "paragraph",
    "plain_text",
    "quote",
    "rich_text",
    "table",
    "text",
    "to_do",
    "toggle",
]

COLORS = frozenset(
    {"default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red"}
    | {
        f"{c}_background"
        for c in (
            *("default", "gray", "brown", "orange", "yellow"),
            *("green", "blue", "purple", "pink", "red"),
        )
    }
)
"""`ApiColor` of the SDK: ten colours and their `_background` variants."""

_ANNOTATIONS = ("bold", "italic", "strikethrough", "underline", "code")

_TEXT_BLOCKS = ("paragraph", "bulleted_list_item", "numbered_list_item", "quote", "toggle")
_HEADINGS = ("heading_1", "heading_2", "heading_3")
BLOCK_TYPES = frozenset(
    {*_TEXT_BLOCKS, *_HEADINGS, "to_do", "callout", "code", "divider", "image", "bookmark"}
    | {"equation", "table", "table_row"}
)
"""Block types the fake stores (`child_page` and `child_database` come from pages and
databases placed in a page)."""

_CAN_NEST = frozenset({*_TEXT_BLOCKS, *_HEADINGS, "to_do", "callout", "table"})
"""Types whose blocks may have children (headings only when toggleable)."""

Spans = str | JSONObject


# -- rich text ----------------------------------------------------------------------------------


def text(
    content: str,
    *,
    link: str | None = None,
    bold: bool = False,
    italic: bool = False,
    strikethrough: bool = False,
    underline: bool = False,
    code: bool = False,
    color: str = "default",
) -> JSONObject:
    """A text span in request shape."""
    span: JSONObject = {
        "type": "text",
        "text": {"content": content, "link": None if link is None else {"url": link}},
    }
    annotations: JSONObject = {
        name: True
        for name, on in zip(
            _ANNOTATIONS, (bold, italic, strikethrough, underline, code), strict=True
        )
        if on
    }
    if color != "default":
        annotations["color"] = color
    if annotations:
        span["annotations"] = annotations
    return span


def equation_text(expression: str) -> JSONObject:
    """An inline equation span (`type: equation`)."""
    return {"type": "equation", "equation": {"expression": expression}}


def rich_text(*spans: Spans) -> list[JSON]:
    """Spans (strings become plain text spans) as a request's `rich_text` array."""
    return [text(s) if isinstance(s, str) else s for s in spans]


def normalize_rich_text(items: JSON) -> list[JSON]:
    """A request's rich text array in response shape.

    Raises:
        ValueError: not an array of text or equation spans.
    """
    if not isinstance(items, list):
        raise ValueError("rich_text must be an array")
    return [_normalize_span(item) for item in items]


def _normalize_span(item: JSON) -> JSONObject:
    if not isinstance(item, dict):
        raise ValueError("a rich text item must be an object")
    annotations = _annotations(item.get("annotations"))
    if "equation" in item:
        equation = item["equation"]
        if not isinstance(equation, dict) or not isinstance(equation.get("expression"), str):
            raise ValueError("equation.expression must be a string")
        expression = equation["expression"]
        return {
            "type": "equation",
            "equation": {"expression": expression},
            "annotations": annotations,
            "plain_text": expression,
            "href": None,
        }
    body = item.get("text")
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        raise ValueError("text.content must be a string")
    link = body.get("link")
    url: str | None = None
    if link is not None:
        target = link.get("url") if isinstance(link, dict) else None
        if not isinstance(target, str):
            raise ValueError("text.link must be null or {url}")
        url = target
    content = body["content"]
    return {
        "type": "text",
        "text": {"content": content, "link": None if url is None else {"url": url}},
        "annotations": annotations,
        "plain_text": content,
        "href": url,
    }


def _annotations(raw: JSON) -> JSONObject:
    given = raw if isinstance(raw, dict) else {}
    out: JSONObject = {name: bool(given.get(name, False)) for name in _ANNOTATIONS}
    color = given.get("color", "default")
    if color not in COLORS:
        raise ValueError(f"unknown colour {color!r}")
    out["color"] = color
    return out


def plain_text(items: Iterable[JSON]) -> str:
    """The concatenated `plain_text` of response-shape rich text."""
    return "".join(str(item.get("plain_text", "")) for item in items if isinstance(item, dict))


# -- files and icons ----------------------------------------------------------------------------


def emoji_icon(emoji: str) -> JSONObject:
    return {"type": "emoji", "emoji": emoji}


def external_file(url: str) -> JSONObject:
    """An icon, cover or media source hosted elsewhere (`type: external`)."""
    return {"type": "external", "external": {"url": url}}


# -- blocks (request shape) ---------------------------------------------------------------------


def _with_children(block: JSONObject, children: Sequence[JSONObject] | None) -> JSONObject:
    if children:
        body = block[str(block["type"])]
        assert isinstance(body, dict)
        body["children"] = list(children)
    return block


def _texty(
    kind: str, spans: tuple[Spans, ...], children: Sequence[JSONObject] | None, **more: Any
) -> JSONObject:
    return _with_children(
        {"object": "block", "type": kind, kind: {"rich_text": rich_text(*spans), **more}},
        children,
    )


def paragraph(
    *spans: Spans, children: Sequence[JSONObject] | None = None, color: str = "default"
) -> JSONObject:
    return _texty("paragraph", spans, children, color=color)


def heading(
    level: int,
    *spans: Spans,
    toggleable: bool = False,
    children: Sequence[JSONObject] | None = None,
) -> JSONObject:
    if level not in (1, 2, 3):
        raise ValueError("heading level must be 1, 2 or 3")
    return _texty(f"heading_{level}", spans, children, is_toggleable=toggleable)


def bulleted(*spans: Spans, children: Sequence[JSONObject] | None = None) -> JSONObject:
    return _texty("bulleted_list_item", spans, children)


def numbered(*spans: Spans, children: Sequence[JSONObject] | None = None) -> JSONObject:
    return _texty("numbered_list_item", spans, children)


def to_do(
    *spans: Spans, checked: bool = False, children: Sequence[JSONObject] | None = None
) -> JSONObject:
    return _texty("to_do", spans, children, checked=checked)


def toggle(*spans: Spans, children: Sequence[JSONObject] | None = None) -> JSONObject:
    return _texty("toggle", spans, children)


def quote(*spans: Spans, children: Sequence[JSONObject] | None = None) -> JSONObject:
    return _texty("quote", spans, children)


def callout(
    *spans: Spans, emoji: str = "💡", children: Sequence[JSONObject] | None = None
) -> JSONObject:
    return _texty("callout", spans, children, icon=emoji_icon(emoji))


def code(source: str, language: str = "plain text", caption: str | None = None) -> JSONObject:
    body: JSONObject = {"rich_text": rich_text(source), "language": language}
    if caption:
        body["caption"] = rich_text(caption)
    return {"object": "block", "type": "code", "code": body}


def divider() -> JSONObject:
    return {"object": "block", "type": "divider", "divider": {}}


def image(url: str, caption: str | None = None) -> JSONObject:
    body: JSONObject = {"type": "external", "external": {"url": url}}
    if caption:
        body["caption"] = rich_text(caption)
    return {"object": "block", "type": "image", "image": body}


def bookmark(url: str, caption: str | None = None) -> JSONObject:
    body: JSONObject = {"url": url}
    if caption:
        body["caption"] = rich_text(caption)
    return {"object": "block", "type": "bookmark", "bookmark": body}


def equation(expression: str) -> JSONObject:
    return {"object": "block", "type": "equation", "equation": {"expression": expression}}


def table(
    rows: Sequence[Sequence[str]], *, has_column_header: bool = False, has_row_header: bool = False
) -> JSONObject:
    """A table whose `table_row` children hold `rows` (one plain text span per cell)."""
    width = max((len(r) for r in rows), default=0)
    children: list[JSON] = [
        {
            "object": "block",
            "type": "table_row",
            "table_row": {"cells": [rich_text(c) for c in [*r, *([""] * (width - len(r)))]]},
        }
        for r in rows
    ]
    return {
        "object": "block",
        "type": "table",
        "table": {
            "table_width": width,
            "has_column_header": has_column_header,
            "has_row_header": has_row_header,
            "children": children,
        },
    }


# -- normalisation ------------------------------------------------------------------------------


def normalize_block(spec: JSON) -> tuple[str, JSONObject, list[JSON]]:
    """A request-shape block as (type, response-shape payload, children in request shape).

    Raises:
        ValueError: an unknown type or a malformed payload.
    """
    if not isinstance(spec, dict):
        raise ValueError("a block must be an object")
    kind = spec.get("type")
    if kind is None:
        keys = [k for k in spec if k in BLOCK_TYPES]
        kind = keys[0] if len(keys) == 1 else None
    if not isinstance(kind, str) or kind not in BLOCK_TYPES:
        raise ValueError(f"unsupported block type {kind!r}")
    raw = spec.get(kind, {})
    if not isinstance(raw, dict):
        raise ValueError(f"{kind} must be an object")
    children = raw.get("children", spec.get("children", []))
    if not isinstance(children, list):
        raise ValueError("children must be an array")
    if children and kind not in _CAN_NEST:
        raise ValueError(f"a {kind} block cannot have children")
    return kind, _payload(kind, raw), children


def _color(raw: JSONObject, default: str = "default") -> str:
    color = raw.get("color", default)
    if not isinstance(color, str) or color not in COLORS:
        raise ValueError(f"unknown colour {color!r}")
    return color


def _caption(raw: JSONObject) -> list[JSON]:
    return normalize_rich_text(raw.get("caption", []))


def _payload(kind: str, raw: JSONObject) -> JSONObject:
    if kind in _TEXT_BLOCKS:
        return {"rich_text": normalize_rich_text(raw.get("rich_text", [])), "color": _color(raw)}
    if kind in _HEADINGS:
        return {
            "rich_text": normalize_rich_text(raw.get("rich_text", [])),
            "is_toggleable": bool(raw.get("is_toggleable", False)),
            "color": _color(raw),
        }
    if kind == "to_do":
        return {
            "rich_text": normalize_rich_text(raw.get("rich_text", [])),
            "checked": bool(raw.get("checked", False)),
            "color": _color(raw),
        }
    if kind == "callout":
        icon = raw.get("icon")
        return {
            "rich_text": normalize_rich_text(raw.get("rich_text", [])),
            "icon": icon if isinstance(icon, dict) else None,
            "color": _color(raw),
        }
    if kind == "code":
        language = raw.get("language", "plain text")
        if not isinstance(language, str):
            raise ValueError("code.language must be a string")
        return {
            "caption": _caption(raw),
            "rich_text": normalize_rich_text(raw.get("rich_text", [])),
            "language": language,
        }
    if kind == "divider":
        return {}
    if kind == "image":
        return _media(raw)
    if kind == "bookmark":
        url = raw.get("url")
        if not isinstance(url, str):
            raise ValueError("bookmark.url must be a string")
        return {"caption": _caption(raw), "url": url}
    if kind == "equation":
        expression = raw.get("expression")
        if not isinstance(expression, str):
            raise ValueError("equation.expression must be a string")
        return {"expression": expression}
    if kind == "table":
        width = raw.get("table_width")
        if not isinstance(width, int) or width < 1:
            raise ValueError("table.table_width must be a positive integer")
        return {
            "table_width": width,
            "has_column_header": bool(raw.get("has_column_header", False)),
            "has_row_header": bool(raw.get("has_row_header", False)),
        }
    cells = raw.get("cells")
    if not isinstance(cells, list):
        raise ValueError("table_row.cells must be an array")
    return {"cells": [normalize_rich_text(cell) for cell in cells]}


def _media(raw: JSONObject) -> JSONObject:
    source = raw.get("type", "external")
    if source == "external":
        external = raw.get("external")
        if not isinstance(external, dict) or not isinstance(external.get("url"), str):
            raise ValueError("external.url must be a string")
        return {"caption": _caption(raw), "type": "external", "external": {"url": external["url"]}}
    if source == "file":
        hosted = raw.get("file")
        if not isinstance(hosted, dict) or not isinstance(hosted.get("url"), str):
            raise ValueError("file.url must be a string")
        # Notion-hosted files carry a signed URL that expires an hour after the read; the
        # fake keeps the URL it was given and an `expiry_time` the renderer refreshes.
        return {"caption": _caption(raw), "type": "file", "file": {"url": hosted["url"]}}
    raise ValueError("media type must be external or file")

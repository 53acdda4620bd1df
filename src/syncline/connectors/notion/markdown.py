"""A Notion page as Markdown (CommonMark with GitHub's tables, task lists and strikethrough):
its properties as YAML front matter, then its blocks.

Two renditions: the one `download` serves, and the `stable` one a page's content hash is taken
of, which leaves out what changes without the page changing: the signatures of Notion-hosted
file URLs (they expire an hour after each read), and the sub-pages and databases placed in the
page (records of their own, which a parent's `last_edited_time` does not follow).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

import orjson

from syncline.connectors.notion.blocks import BlockNode, payload
from syncline.types import JSON, JSONObject

__all__ = ["document", "page_url", "render_blocks", "rich_text"]

_ESCAPED = re.compile(r"([\\`*_\[\]<~])")
_ORDERED = re.compile(r"(\d{1,9})([.)])(\s|$)")
_LINE_START = frozenset("#>+-=")
_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})

_LANGUAGES = {
    "plain text": "text",
    "c++": "cpp",
    "c#": "csharp",
    "f#": "fsharp",
    "objective-c": "objectivec",
    "java/c/c++/c#": "",
    "visual basic": "vb",
    "vb.net": "vbnet",
    "shell": "shell",
    "markup": "html",
}
_LIST_FAMILY = {
    "bulleted_list_item": "bullet",
    "to_do": "bullet",
    "numbered_list_item": "number",
}
_SILENT = frozenset({"table_of_contents", "breadcrumb"})
"""Layout blocks with no content of their own."""
_TRANSPARENT = frozenset({"synced_block", "column_list", "column"})
"""Blocks whose content is their children, shown in order."""
_MEDIA = frozenset({"file", "pdf", "video", "audio"})
_LINKS = frozenset({"bookmark", "embed", "link_preview"})


def page_url(object_id: str) -> str:
    """Notion's web address of a page or database."""
    return "https://www.notion.so/" + object_id.replace("-", "")


# -- rich text ------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return _ESCAPED.sub(r"\\\1", text)


def _guard(line: str) -> str:
    """A line of text that Markdown cannot mistake for a heading, quote, list or rule."""
    body = line.lstrip(" ")
    if not body:
        return line
    indent = line[: len(line) - len(body)]
    if body[0] in _LINE_START:
        return f"{indent}\\{body}"
    ordered = _ORDERED.match(body)
    if ordered is not None:
        cut = ordered.end(1)
        return f"{indent}{body[:cut]}\\{body[cut:]}"
    return line


def _wrap(text: str, marker: str) -> str:
    """`text` between `marker`s, with its outer spaces outside them (`** a**` is no emphasis)."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{marker}{core}{marker}{trail}"


def _code_span(text: str) -> str:
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _flag(annotations: JSON, name: str) -> bool:
    return isinstance(annotations, dict) and annotations.get(name) is True


def _href(item: JSONObject) -> str | None:
    href = item.get("href")
    if isinstance(href, str) and href:
        return href
    text = item.get("text")
    link = text.get("link") if isinstance(text, dict) else None
    url = link.get("url") if isinstance(link, dict) else None
    return url if isinstance(url, str) and url else None


def _span_text(item: JSONObject) -> str:
    plain = item.get("plain_text")
    if isinstance(plain, str):
        return plain
    text = item.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    return content if isinstance(content, str) else ""


def _equation(item: JSONObject) -> str | None:
    if item.get("type") != "equation":
        return None
    equation = item.get("equation")
    expression = equation.get("expression") if isinstance(equation, dict) else None
    return expression if isinstance(expression, str) else _span_text(item)


_Style = tuple[bool, bool, bool, bool, str | None]
"""(code, bold, italic, strikethrough, link) of a span."""


def _style(item: JSONObject) -> _Style:
    notes = item.get("annotations")
    return (
        _flag(notes, "code"),
        _flag(notes, "bold"),
        _flag(notes, "italic"),
        _flag(notes, "strikethrough"),
        _href(item),
    )


def rich_text(items: JSON) -> str:
    """Notion rich text as inline Markdown: bold, italic, strikethrough, code, links (and
    mentions, as their text and link), inline equations as `$...$`. Underline and colours have
    no Markdown and are dropped."""
    if not isinstance(items, list):
        return ""
    # Notion splits text into spans at every edit; spans alike are one run, else `**a****b**`.
    runs: list[tuple[_Style | None, str]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        expression = _equation(item)
        if expression is not None:
            runs.append((None, f"${expression}$"))
            continue
        style = _style(item)
        if runs and runs[-1][0] == style:
            runs[-1] = (style, runs[-1][1] + _span_text(item))
        else:
            runs.append((style, _span_text(item)))
    out = []
    for run_style, text in runs:
        if run_style is None:
            out.append(text)
            continue
        code, bold, italic, strike, href = run_style
        piece = _code_span(text) if code and text else _escape(text)
        if italic:
            piece = _wrap(piece, "*")
        if bold:
            piece = _wrap(piece, "**")
        if strike:
            piece = _wrap(piece, "~~")
        if href is not None and piece.strip():
            piece = f"[{piece}]({_link_target(href)})"
        out.append(piece)
    return "".join(out)


def _plain(items: JSON) -> str:
    if not isinstance(items, list):
        return ""
    return "".join(_span_text(i) for i in items if isinstance(i, dict))


def _link_target(url: str) -> str:
    return f"<{url}>" if any(c in url for c in " ()<>") else url


def _label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _lines(text: str) -> list[str]:
    return [_guard(line) for line in text.split("\n")] if text else []


# -- files ----------------------------------------------------------------------------------


def _file(data: JSONObject, *, stable: bool) -> tuple[str | None, str]:
    """(URL, name) of a file object: an external URL, or a Notion-hosted one (whose signed
    query is dropped in the stable rendition)."""
    kind = data.get("type")
    inner = data.get(kind) if isinstance(kind, str) else None
    url = inner.get("url") if isinstance(inner, dict) else None
    if not isinstance(url, str) or not url:
        return None, ""
    if stable and kind == "file":
        parts = urlsplit(url)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    return url, name


# -- blocks ---------------------------------------------------------------------------------


def _indent(lines: Sequence[str], by: str) -> list[str]:
    return [f"{by}{line}" if line else "" for line in lines]


def _prefixed(lines: Sequence[str], prefix: str) -> list[str]:
    return [f"{prefix}{line}" if line else prefix.rstrip() for line in lines]


class _Renderer:
    def __init__(self, *, stable: bool) -> None:
        self.stable = stable

    def blocks(self, nodes: Sequence[BlockNode]) -> list[str]:
        out: list[str] = []
        family: str | None = None
        number = 0
        for node in nodes:
            kind = node.type
            this = _LIST_FAMILY.get(kind)
            if kind == "numbered_list_item":
                number = number + 1 if family == "number" else self._start(node)
            lines = self.block(node, number)
            if not lines:
                family = None
                continue
            if out and not (this is not None and this == family):
                out.append("")
            out.extend(lines)
            family = this
        return out

    @staticmethod
    def _start(node: BlockNode) -> int:
        start = payload(node).get("list_start_index")
        return start if isinstance(start, int) and not isinstance(start, bool) else 1

    def block(self, node: BlockNode, number: int = 1) -> list[str]:
        kind, data = node.type, payload(node)
        text = rich_text(data.get("rich_text"))
        if kind == "paragraph":
            return self._then(_lines(text), node.children)
        if kind in ("heading_1", "heading_2", "heading_3"):
            level = int(kind[-1])
            heading = "#" * level + " " + text.replace("\n", " ").strip()
            return self._then([heading.rstrip()], node.children)
        if kind == "bulleted_list_item":
            return self._item("- ", text, node.children)
        if kind == "numbered_list_item":
            return self._item(f"{number}. ", text, node.children)
        if kind == "to_do":
            box = "[x] " if data.get("checked") is True else "[ ] "
            return self._item("- ", box + text if text else box.rstrip(), node.children)
        if kind == "toggle":
            return self._toggle(text, node.children)
        if kind == "quote":
            return _prefixed(self._then(_lines(text), node.children), "> ")
        if kind == "callout":
            return _prefixed(self._then(_lines(self._icon(data) + text), node.children), "> ")
        if kind == "code":
            return self._code(data)
        if kind == "divider":
            return ["---"]
        if kind == "equation":
            expression = data.get("expression")
            return ["$$", *str(expression or "").split("\n"), "$$"]
        if kind == "image":
            return self._image(data)
        if kind in _MEDIA:
            return self._media(kind, data)
        if kind in _LINKS:
            return self._bookmark(data)
        if kind == "table":
            return self._table(data, node.children)
        if kind in ("child_page", "child_database"):
            if self.stable:
                return []
            title = data.get("title")
            label = _label(title) if isinstance(title, str) and title else "Untitled"
            return [f"[{label}]({page_url(node.id)})"]
        if kind == "link_to_page":
            target = data.get(str(data.get("type")))
            if not isinstance(target, str):
                return []
            return [f"[{_label('Linked page')}]({page_url(target)})"]
        if kind in _TRANSPARENT:
            return self.blocks(node.children)
        if kind in _SILENT:
            return []
        return [f"<!-- unsupported block: {kind or 'unknown'} -->"]

    def _then(self, lines: list[str], children: Sequence[BlockNode]) -> list[str]:
        below = self.blocks(children)
        if not below:
            return lines
        return [*lines, "", *below] if lines else below

    def _item(self, marker: str, text: str, children: Sequence[BlockNode]) -> list[str]:
        indent = " " * len(marker)
        lines = _lines(text) or [""]
        out = [f"{marker}{lines[0]}".rstrip(), *_indent(lines[1:], indent)]
        below = self.blocks(children)
        if below:
            # A nested list sits tight under its item; other blocks would merge into its text.
            if children and _LIST_FAMILY.get(children[0].type) is None:
                out.append("")
            out.extend(_indent(below, indent))
        return out

    def _toggle(self, text: str, children: Sequence[BlockNode]) -> list[str]:
        summary = text.replace("\n", " ").strip()
        below = self.blocks(children)
        inner = ["", *below, ""] if below else []
        return ["<details>", f"<summary>{summary}</summary>", *inner, "</details>"]

    @staticmethod
    def _icon(data: JSONObject) -> str:
        icon = data.get("icon")
        if isinstance(icon, dict) and icon.get("type") == "emoji":
            emoji = icon.get("emoji")
            if isinstance(emoji, str) and emoji:
                return emoji + " "
        return ""

    @staticmethod
    def _code(data: JSONObject) -> list[str]:
        source = _plain(data.get("rich_text"))
        language = data.get("language")
        tag = ""
        if isinstance(language, str):
            lowered = language.strip().lower()
            tag = _LANGUAGES.get(lowered, lowered.replace(" ", "-"))
        runs = [len(run) for run in re.findall(r"`{3,}", source)]
        fence = "`" * max(3, max(runs, default=0) + 1)
        out = [f"{fence}{tag}", *source.split("\n"), fence]
        caption = rich_text(data.get("caption"))
        return [*out, "", *_lines(caption)] if caption else out

    def _image(self, data: JSONObject) -> list[str]:
        url, name = _file(data, stable=self.stable)
        caption = _plain(data.get("caption"))
        if url is None:
            return [f"<!-- image without a URL: {_label(caption or name)} -->"]
        return [f"![{_label(caption or name)}]({_link_target(url)})"]

    def _media(self, kind: str, data: JSONObject) -> list[str]:
        url, name = _file(data, stable=self.stable)
        given = data.get("name")
        label = _plain(data.get("caption")) or (given if isinstance(given, str) else "") or name
        if url is None:
            return [f"<!-- {kind} without a URL: {_label(label)} -->"]
        return [f"[{_label(label or kind)}]({_link_target(url)})"]

    @staticmethod
    def _bookmark(data: JSONObject) -> list[str]:
        url = data.get("url")
        if not isinstance(url, str) or not url:
            return []
        label = _plain(data.get("caption")) or url
        return [f"[{_label(label)}]({_link_target(url)})"]

    @staticmethod
    def _table(data: JSONObject, rows: Sequence[BlockNode]) -> list[str]:
        cells = []
        for row in rows:
            raw = payload(row).get("cells")
            if row.type == "table_row" and isinstance(raw, list):
                cells.append([_cell(cell) for cell in raw])
        declared = data.get("table_width")
        width = max([len(r) for r in cells] + [declared if isinstance(declared, int) else 0])
        if width == 0:
            return []
        cells = [r + [""] * (width - len(r)) for r in cells]
        header = cells.pop(0) if cells and data.get("has_column_header") is True else [""] * width
        return [
            _row(header),
            _row(["---"] * width),
            *(_row(r) for r in cells),
        ]


def _cell(cell: JSON) -> str:
    return rich_text(cell).replace("|", "\\|").replace("\n", "<br>").strip()


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_blocks(nodes: Sequence[BlockNode], *, stable: bool = False) -> str:
    """The blocks as Markdown (no front matter), ending in a newline when not empty."""
    lines = _Renderer(stable=stable).blocks(nodes)
    return "\n".join(lines) + "\n" if lines else ""


# -- the document ---------------------------------------------------------------------------


def _yaml_key(key: str) -> str:
    plain = _SAFE_KEY.fullmatch(key) is not None and key.lower() not in _YAML_WORDS
    return key if plain else orjson.dumps(key).decode()


def front_matter(properties: Mapping[str, JSON]) -> list[str]:
    """YAML front matter, one property a line; every value is JSON, which YAML reads as is."""
    if not properties:
        return []
    body = [f"{_yaml_key(k)}: {orjson.dumps(v).decode()}" for k, v in properties.items()]
    return ["---", *body, "---"]


def document(
    properties: Mapping[str, JSON], nodes: Sequence[BlockNode], *, stable: bool = False
) -> str:
    """The page as one Markdown document: front matter, a blank line, the blocks."""
    head = front_matter(properties)
    body = render_blocks(nodes, stable=stable)
    if not head:
        return body
    return "\n".join(head) + "\n" + ("\n" + body if body else "")

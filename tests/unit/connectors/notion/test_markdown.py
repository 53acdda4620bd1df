"""Notion blocks and rich text as Markdown: one test per block type, the annotations, the
front matter, and the stable rendition a page's hash is taken of. Blocks are built in the
shape Notion's block-children endpoint answers (developers.notion.com/reference/block)."""

from __future__ import annotations

from typing import Any

import pytest

from syncline.connectors.notion.blocks import BlockNode
from syncline.connectors.notion.markdown import document, front_matter, render_blocks, rich_text
from syncline.types import JSONObject

SIGNED = (
    "https://prod-files-secure.s3.us-west-2.amazonaws.com/ws/f1/diagram.png"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=abc"
)


def span(content: str, *, href: str | None = None, **annotations: bool) -> dict[str, Any]:
    notes = dict.fromkeys(("bold", "italic", "strikethrough", "underline", "code"), False)
    notes.update(annotations)
    return {
        "type": "text",
        "text": {"content": content, "link": None if href is None else {"url": href}},
        "annotations": {**notes, "color": "default"},
        "plain_text": content,
        "href": href,
    }


def block(kind: str, *children: BlockNode, **data: Any) -> BlockNode:
    body: JSONObject = {
        "object": "block",
        "id": f"{kind}-id",
        "type": kind,
        "has_children": bool(children),
        kind: data,
    }
    return BlockNode(body, tuple(children))


def texty(kind: str, text: str, *children: BlockNode, **data: Any) -> BlockNode:
    return block(kind, *children, rich_text=[span(text)], color="default", **data)


def md(*nodes: BlockNode) -> str:
    return render_blocks(nodes)


# -- rich text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([span("plain")], "plain"),
        ([span("strong", bold=True)], "**strong**"),
        ([span("slanted", italic=True)], "*slanted*"),
        ([span("gone", strikethrough=True)], "~~gone~~"),
        ([span("x = 1", code=True)], "`x = 1`"),
        ([span("a `tick`", code=True)], "`` a `tick` ``"),
        ([span("site", href="https://example.com")], "[site](https://example.com)"),
        ([span("both", bold=True, italic=True)], "***both***"),
        ([span("under", underline=True)], "under"),
        ([span("see "), span("this", bold=True), span(" now")], "see **this** now"),
        ([span("bold ", bold=True), span("run", bold=True)], "**bold run**"),
        ([span(" padded ", bold=True)], " **padded** "),
        ([span("2 * 3 _ [x]")], "2 \\* 3 \\_ \\[x\\]"),
    ],
)
def test_rich_text_annotations_become_inline_markdown(spans, expected):
    """Bold, italic, strikethrough, code and links take their Markdown form (underline has
    none); spans alike merge into one run, spaces stay outside the markers, and Markdown's
    own characters in text are escaped."""
    assert expected == rich_text(spans)


def test_mentions_and_inline_equations_keep_their_text_and_link():
    """A page mention is a link with its text; a date mention its text; an inline equation
    `$...$`."""
    mention: JSONObject = {
        "type": "mention",
        "mention": {"type": "page", "page": {"id": "p1"}},
        "annotations": {},
        "plain_text": "Q3 plan",
        "href": "https://www.notion.so/p1",
    }
    date: JSONObject = {"type": "mention", "mention": {"type": "date"}, "plain_text": "2024-05-01"}
    equation: JSONObject = {"type": "equation", "equation": {"expression": "a^2"}}

    assert "[Q3 plan](https://www.notion.so/p1) on 2024-05-01 $a^2$" == rich_text(
        [mention, span(" on "), date, span(" "), equation]
    )


# -- one test per block type ----------------------------------------------------------------------


def test_paragraph():
    """A paragraph is its text; a line that would read as Markdown syntax is escaped."""
    assert "Hello **world**\n" == md(
        block("paragraph", rich_text=[span("Hello "), span("world", bold=True)])
    )
    assert "\\# not a heading\n\n1\\. not a list\n" == md(
        texty("paragraph", "# not a heading"), texty("paragraph", "1. not a list")
    )


def test_an_empty_paragraph_is_no_line():
    """Notion's empty paragraphs (spacing) add nothing between blocks."""
    assert "one\n\ntwo\n" == md(
        texty("paragraph", "one"), block("paragraph", rich_text=[]), texty("paragraph", "two")
    )


@pytest.mark.parametrize(("kind", "marker"), [("heading_1", "#"), ("heading_2", "##")])
def test_headings(kind, marker):
    """`heading_1` to `heading_3` are `#` to `###`."""
    assert f"{marker} Title\n" == md(texty(kind, "Title", is_toggleable=False))


def test_heading_3_toggleable_shows_its_children_below():
    """A toggleable heading's children follow it."""
    assert "### Archive\n\nold\n" == md(
        texty("heading_3", "Archive", texty("paragraph", "old"), is_toggleable=True)
    )


def test_bulleted_list_nested():
    """Bulleted items are a tight list; children are indented under their item."""
    assert "- one\n  - one.a\n- two\n" == md(
        texty("bulleted_list_item", "one", texty("bulleted_list_item", "one.a")),
        texty("bulleted_list_item", "two"),
    )


def test_numbered_list_counts_and_restarts():
    """Numbered items count up; a block between lists starts the count again; a nested list
    is indented by its marker's width."""
    assert "1. a\n2. b\n   1. b.i\n\nbreak\n\n1. c\n" == md(
        texty("numbered_list_item", "a"),
        texty("numbered_list_item", "b", texty("numbered_list_item", "b.i")),
        texty("paragraph", "break"),
        texty("numbered_list_item", "c"),
    )


def test_to_do():
    """To-dos are task list items, checked or not."""
    assert "- [x] done\n- [ ] open\n" == md(
        texty("to_do", "done", checked=True), texty("to_do", "open", checked=False)
    )


def test_list_item_with_a_paragraph_below_keeps_it_apart():
    """A paragraph under a list item is separated by a blank line, so it does not run into
    the item's text."""
    assert "- item\n\n  more\n" == md(
        texty("bulleted_list_item", "item", texty("paragraph", "more"))
    )


def test_toggle():
    """A toggle is a `<details>` block with its text as the summary."""
    assert "<details>\n<summary>More</summary>\n\nhidden\n\n</details>\n" == md(
        texty("toggle", "More", texty("paragraph", "hidden"))
    )


def test_code_with_language():
    """Code keeps its text verbatim in a fence tagged with its language (Notion's names
    mapped where Markdown's differ), and its caption below."""
    source = block(
        "code",
        rich_text=[span("print('*hi*')")],
        language="python",
        caption=[span("Greeting")],
    )
    plain = block("code", rich_text=[span("x")], language="plain text", caption=[])

    assert "```python\nprint('*hi*')\n```\n\nGreeting\n" == md(source)
    assert "```text\nx\n```\n" == md(plain)


def test_code_containing_a_fence_gets_a_longer_one():
    """Backticks inside code lengthen the fence."""
    assert "````markdown\n```\n````\n" == md(
        block("code", rich_text=[span("```")], language="markdown", caption=[])
    )


def test_quote():
    """A quote prefixes every line, its children's too, with `> `."""
    assert "> Make it work\n>\n> nested\n" == md(
        texty("quote", "Make it work", texty("paragraph", "nested"))
    )


def test_callout():
    """A callout is a quote led by its emoji icon."""
    assert "> 📟 On call: Bob\n" == md(
        texty("callout", "On call: Bob", icon={"type": "emoji", "emoji": "📟"})
    )


def test_divider():
    """A divider is a thematic break, apart from the text above it."""
    assert "above\n\n---\n" == md(texty("paragraph", "above"), block("divider"))


def test_image_external_and_notion_hosted():
    """An image is `![caption](url)`; a Notion-hosted one keeps its signed URL in the download
    and loses the signature in the stable rendition (it changes at every read)."""
    external = block(
        "image",
        type="external",
        external={"url": "https://img.example.com/a.png"},
        caption=[span("Architecture")],
    )
    hosted = block(
        "image", type="file", file={"url": SIGNED, "expiry_time": "2024-05-02T11:00:00Z"}
    )

    assert "![Architecture](https://img.example.com/a.png)\n" == md(external)
    assert f"![diagram.png]({SIGNED})\n" == md(hosted)
    assert (
        "![diagram.png](https://prod-files-secure.s3.us-west-2.amazonaws.com/ws/f1/diagram.png)\n"
        == (render_blocks([hosted], stable=True))
    )


@pytest.mark.parametrize("kind", ["file", "pdf", "video", "audio"])
def test_files_and_media_are_links(kind):
    """Files, PDFs, videos and audio are links named by their caption, else their name."""
    node = block(
        kind,
        type="external",
        external={"url": "https://files.example.com/report%20v2.pdf"},
        caption=[],
    )

    assert "[report v2.pdf](https://files.example.com/report%20v2.pdf)\n" == md(node)


def test_file_with_a_name_uses_it():
    """A file block's `name` labels its link when it has no caption."""
    node = block(
        "file", type="external", external={"url": "https://x.example/f"}, caption=[], name="Q3.xlsx"
    )

    assert "[Q3.xlsx](https://x.example/f)\n" == md(node)


def test_bookmark():
    """A bookmark is a link labelled by its caption, else its URL."""
    assert "[Notion API](https://developers.notion.com)\n" == md(
        block("bookmark", url="https://developers.notion.com", caption=[span("Notion API")])
    )
    assert "[https://example.com](https://example.com)\n" == md(
        block("bookmark", url="https://example.com", caption=[])
    )


def test_embed_and_link_preview_are_links():
    """Embeds and link previews are links to what they show."""
    assert "[https://youtu.be/x](https://youtu.be/x)\n" == md(
        block("embed", url="https://youtu.be/x", caption=[])
    )
    assert "[https://github.com/a/b](https://github.com/a/b)\n" == md(
        block("link_preview", url="https://github.com/a/b")
    )


def test_equation():
    """A block equation is a `$$` display."""
    assert "$$\ne^{i\\pi} + 1 = 0\n$$\n" == md(block("equation", expression="e^{i\\pi} + 1 = 0"))


def test_table_with_and_without_a_header():
    """A table is a GitHub table; without a column header its first row is not promoted (an
    empty header stands above); pipes in cells are escaped."""

    def row(*cells: str) -> BlockNode:
        return block("table_row", cells=[[span(c)] for c in cells])

    with_header = block(
        "table",
        row("Service", "Owner"),
        row("sync", "a|b"),
        table_width=2,
        has_column_header=True,
        has_row_header=False,
    )
    bare = block("table", row("x", "y"), table_width=2, has_column_header=False)

    assert "| Service | Owner |\n| --- | --- |\n| sync | a\\|b |\n" == md(with_header)
    assert "|  |  |\n| --- | --- |\n| x | y |\n" == md(bare)


def test_child_page_and_child_database_are_links():
    """Sub-pages and databases are links to them in the download, and absent from the stable
    rendition (they are records of their own)."""
    page = BlockNode(
        {
            "id": "9a1e0000-0000-4000-8000-000000000001",
            "type": "child_page",
            "child_page": {"title": "Risks"},
        }
    )
    database = BlockNode(
        {
            "id": "9a1e0000-0000-4000-8000-000000000002",
            "type": "child_database",
            "child_database": {"title": "Tasks"},
        }
    )

    assert (
        "[Risks](https://www.notion.so/9a1e0000000040008000000000000001)\n\n"
        "[Tasks](https://www.notion.so/9a1e0000000040008000000000000002)\n"
    ) == md(page, database)
    assert "" == render_blocks([page, database], stable=True)


def test_link_to_page():
    """A link to a page links to it."""
    assert "[Linked page](https://www.notion.so/abc)\n" == md(
        block("link_to_page", type="page_id", page_id="abc")
    )


def test_columns_and_synced_blocks_show_their_children_in_order():
    """Column lists, columns and synced blocks are transparent: their children, in order."""
    columns = block(
        "column_list",
        block("column", texty("paragraph", "left")),
        block("column", texty("paragraph", "right")),
    )
    synced = block("synced_block", texty("paragraph", "shared"), synced_from=None)

    assert "left\n\nright\n\nshared\n" == md(columns, synced)


def test_table_of_contents_and_breadcrumb_add_nothing():
    """Layout blocks with no content of their own render nothing."""
    assert "text\n" == md(
        block("table_of_contents", color="default"), texty("paragraph", "text"), block("breadcrumb")
    )


@pytest.mark.parametrize("kind", ["unsupported", "ai_block"])
def test_unsupported_blocks_are_skipped_with_a_comment(kind):
    """A block type Notion's API does not expose, or one this renderer does not know, is an
    HTML comment naming it."""
    assert f"<!-- unsupported block: {kind} -->\n" == md(block(kind))


# -- the document -------------------------------------------------------------------------------


def test_front_matter_quotes_what_yaml_would_misread():
    """Every value is JSON (YAML reads it as is); keys that are not plain identifiers, or that
    YAML would read as booleans, are quoted."""
    assert [
        "---",
        'Name: "Write docs"',
        'Tags: ["docs","infra"]',
        "Points: 2",
        "Done: true",
        "Due: null",
        '"Due date": "2024-05-01"',
        '"yes": "no"',
        "---",
    ] == front_matter(
        {
            "Name": "Write docs",
            "Tags": ["docs", "infra"],
            "Points": 2,
            "Done": True,
            "Due": None,
            "Due date": "2024-05-01",
            "yes": "no",
        }
    )


def test_a_document_is_front_matter_then_blocks():
    """The properties lead, then a blank line and the content; a page without content is its
    front matter alone."""
    assert '---\ntitle: "Plan"\n---\n\nShip it\n' == document(
        {"title": "Plan"}, [texty("paragraph", "Ship it")]
    )
    assert '---\ntitle: ""\n---\n' == document({"title": ""}, [])

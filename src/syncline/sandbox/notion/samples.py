"""Sample content for the fake Notion: a small realistic workspace (demo and tests) and many
pages quickly (benchmarks)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from syncline.sandbox.notion.content import (
    bookmark,
    bulleted,
    callout,
    code,
    divider,
    emoji_icon,
    equation,
    equation_text,
    external_file,
    heading,
    image,
    numbered,
    paragraph,
    quote,
    table,
    text,
    to_do,
    toggle,
)
from syncline.sandbox.notion.state import NotionState

__all__ = ["Generated", "NotionSamples", "generate", "populate"]


@dataclass
class NotionSamples:
    """What `populate` made: the people's ids, and every page's, database's and named
    block's id by its path (`Engineering/Q3 plan/Risks`, `Engineering/Tasks/Write docs`)."""

    alice: str
    bob: str
    paths: dict[str, str] = field(default_factory=dict)


def populate(state: NotionState, *, bot: str | None = None) -> NotionSamples:
    """An "Engineering" wiki page shared with `bot` (default: the state's integration): rich
    content of every common block type, sub-pages two levels deep, a page inside a toggle, an
    inline "Tasks" database with typed properties and rows (one trashed), and a trashed draft;
    a shared "Meeting notes" page; and a "Private" page nobody shared."""
    alice = state.default_person()
    bob = state.add_person("Bob Builder", "bob@example.com")
    paths: dict[str, str] = {}
    eng = paths["Engineering"] = state.add_page(
        "Engineering",
        icon=emoji_icon("🛠️"),
        cover=external_file("https://images.example.com/cover.png"),
        by=alice,
        content=[
            heading(1, "Engineering handbook"),
            paragraph(
                "We ship ",
                text("small changes", bold=True),
                " often; see the ",
                text("style guide", link="https://example.com/style"),
                " and ",
                text("code review", italic=True, code=True),
                ".",
            ),
            callout("On call this week: Bob.", emoji="📟"),
            heading(2, "Principles"),
            bulleted("Tests first", children=[bulleted("Fakes before connectors")]),
            bulleted("Measure, then optimise"),
            numbered("Write the doc"),
            numbered("Ship it"),
            to_do("Rotate the keys", checked=True),
            to_do("Renew the certificate"),
            toggle("Escalation", children=[paragraph("Page the lead after 15 minutes.")]),
            code("def sync() -> None:\n    ...", "python", caption="The whole engine"),
            quote("Make it work, make it right, make it fast."),
            divider(),
            image("https://images.example.com/architecture.png", caption="Architecture"),
            bookmark("https://developers.notion.com", caption="Notion API"),
            equation("e^{i\\pi} + 1 = 0"),
            paragraph("Inline maths: ", equation_text("a^2 + b^2 = c^2")),
            table(
                [["Service", "Owner"], ["sync", "Alice"], ["api", "Bob"]], has_column_header=True
            ),
        ],
    )
    state.share(eng, bot)
    toggle_block = state.append_blocks(eng, [heading(3, "Archive", toggleable=True)], by=alice)[0]
    paths["Engineering/#Archive"] = toggle_block
    paths["Engineering/Archive/Old runbook"] = state.add_page(
        "Old runbook", toggle_block, content=[paragraph("Restart it.")], by=bob
    )
    plan = paths["Engineering/Q3 plan"] = state.add_page(
        "Q3 plan",
        eng,
        icon=emoji_icon("📈"),
        by=alice,
        content=[
            heading(2, "Goals"),
            to_do("Ship the Notion connector"),
            to_do("Halve the sync latency"),
            paragraph("Owner: ", text("Alice", bold=True)),
        ],
    )
    paths["Engineering/Q3 plan/Risks"] = state.add_page(
        "Risks", plan, content=[bulleted("Rate limits"), bulleted("Minute-rounded times")], by=bob
    )
    tasks = paths["Engineering/Tasks"] = state.add_database(
        "Tasks",
        eng,
        {
            "Name": "title",
            "Status": ("select", ["Todo", "In progress", "Done"]),
            "Tags": ("multi_select", ["backend", "docs", "infra"]),
            "Points": "number",
            "Due": "date",
            "Done": "checkbox",
            "Owner": "people",
            "Link": "url",
            "Notes": "rich_text",
            "Created": "created_time",
            "Edited": "last_edited_time",
        },
        inline=True,
        by=alice,
    )
    rows = [
        ("Write docs", "Done", ["docs"], 2, "2024-05-01", True, [alice], None),
        ("Build the fake", "In progress", ["backend", "infra"], 5, "2024-05-10", False, [bob], "https://example.com/pr/1"),
        ("Load test", "Todo", ["infra"], 3, None, False, [], None),
    ]  # fmt: skip
    for name, status, tags, points, due, done, owner, link in rows:
        paths[f"Engineering/Tasks/{name}"] = state.add_row(
            tasks,
            {
                "Name": name, "Status": status, "Tags": tags, "Points": points, "Due": due,
                "Done": done, "Owner": owner, "Link": link, "Notes": f"Notes on {name.lower()}",
            },
            content=[paragraph(f"Details of {name.lower()}.")] if done else (),
            by=alice,
        )  # fmt: skip
    dropped = paths["Engineering/Tasks/Dropped idea"] = state.add_row(
        tasks, {"Name": "Dropped idea", "Status": "Todo"}, by=bob
    )
    state.trash(dropped, by=bob)
    draft = paths["Engineering/Old draft"] = state.add_page(
        "Old draft", eng, content=[paragraph("Never mind.")], by=bob
    )
    state.trash(draft, by=bob)
    notes = paths["Meeting notes"] = state.add_page(
        "Meeting notes",
        by=bob,
        content=[
            heading(2, "2024-05-02"),
            bulleted("Sync engine on track"),
            to_do("Alice to review the fake", checked=False),
        ],
    )
    state.share(notes, bot)
    paths["Private"] = state.add_page("Private", content=[paragraph("Not for bots.")], by=alice)
    return NotionSamples(alice, bob, paths)


@dataclass
class Generated:
    """What `generate` made: the shared root page, then every page's id in creation order."""

    root: str
    pages: list[str]
    seconds: float


def generate(
    state: NotionState,
    count: int,
    *,
    blocks_per_page: int = 0,
    span_seconds: float = 30 * 86400.0,
    bot: str | None = None,
) -> Generated:
    """`count` pages under one root page shared with `bot`, created (and last edited) at even
    steps over the last `span_seconds`, so many share a minute once rounded, each with
    `blocks_per_page` paragraphs. Pages are appended in time order, so the search index
    grows at its end: 10,000 pages build in a fraction of a second."""
    started = time.perf_counter()
    now = state.clock()
    first = now - span_seconds
    step = span_seconds / max(count, 1)
    with state.lock:
        root = state.add_page("Benchmark", at=first - 1.0)
        state.share(root, bot)
        pages = [
            state.add_page(
                f"Page {n:05d}",
                root,
                content=[paragraph(f"Body {n} line {b}") for b in range(blocks_per_page)],
                at=first + n * step,
            )
            for n in range(count)
        ]
    return Generated(root, pages, time.perf_counter() - started)

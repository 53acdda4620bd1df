"""Where a page sits: the nearest page above it through blocks and databases, and whether it
is below a configured page, learnt from what was read and fetched at most once otherwise."""

from __future__ import annotations

from syncline.connectors.notion.ancestry import Ancestry
from syncline.connectors.notion.blocks import BlockNode
from syncline.connectors.notion.normalize import Ref
from syncline.types import JSONObject


def _on(kind: str, parent: str) -> JSONObject:
    key = f"{kind}_id"
    return {"parent": {"type": key, key: parent}}


TOP: JSONObject = {"parent": {"type": "workspace", "workspace": True}}


class _Upstream:
    """Objects by reference; counts every fetch."""

    def __init__(self, objects: dict[Ref, JSONObject]) -> None:
        self.objects = objects
        self.fetched: list[Ref] = []

    async def __call__(self, ref: Ref) -> JSONObject | None:
        self.fetched.append(ref)
        return self.objects.get(ref)


async def test_a_page_in_a_toggle_belongs_to_the_page_holding_the_toggle():
    """Block parents are followed up to the page; each block is fetched once per run."""
    upstream = _Upstream(
        {
            ("block", "inner"): _on("block", "toggle"),
            ("block", "toggle"): _on("page", "eng"),
        }
    )
    ancestry = Ancestry(upstream)
    nested = _on("block", "inner")

    assert "eng" == await ancestry.folder(nested)
    assert "eng" == await ancestry.folder(nested)
    assert [("block", "inner"), ("block", "toggle")] == upstream.fetched


async def test_a_row_belongs_to_the_page_holding_its_database():
    """A row's database is followed to the page it sits in."""
    upstream = _Upstream({("database", "tasks"): _on("page", "eng")})
    row: JSONObject = {
        "parent": {"type": "data_source_id", "data_source_id": "s", "database_id": "tasks"}
    }

    assert "eng" == await Ancestry(upstream).folder(row)


async def test_content_read_answers_without_fetching():
    """Blocks read as content name their parents, and a child_page or child_database block
    its page's or database's: nothing is fetched."""
    upstream = _Upstream({})
    ancestry = Ancestry(upstream)
    toggle = BlockNode(
        {"id": "toggle", "type": "toggle", **_on("page", "eng")},
        (BlockNode({"id": "tasks", "type": "child_database", **_on("block", "toggle")}),),
    )
    ancestry.learn_content([toggle])
    row: JSONObject = {"parent": {"type": "database_id", "database_id": "tasks"}}

    assert "eng" == await ancestry.folder(row)
    assert [] == upstream.fetched


async def test_an_unreadable_ancestor_ends_the_chain():
    """A block or database the integration cannot read leaves the page without a folder."""
    upstream = _Upstream({})

    assert None is await Ancestry(upstream).folder(_on("block", "hidden"))


async def test_within_the_configured_pages_through_any_depth():
    """A page below a configured page (through pages, blocks and databases) is within it; one
    whose chain ends at the workspace, or at something unreadable, is not."""
    upstream = _Upstream(
        {
            ("page", "plan"): _on("page", "eng"),
            ("page", "eng"): TOP,
            ("block", "col"): _on("page", "plan"),
            ("page", "other"): TOP,
        }
    )
    ancestry = Ancestry(upstream)
    roots = {"eng"}

    assert await ancestry.within("eng", TOP, roots)
    assert await ancestry.within("risks", _on("block", "col"), roots)
    assert not await ancestry.within("notes", _on("page", "other"), roots)
    assert not await ancestry.within("lost", _on("page", "unknown"), roots)

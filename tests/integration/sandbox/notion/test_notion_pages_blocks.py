"""The sandbox Notion's pages, blocks, databases and data sources over real HTTP: their shapes
under each API version, times rounded down to the minute, block children paging and recursion,
and database queries."""

from __future__ import annotations

import pytest

from syncline.sandbox.notion.content import (
    bulleted,
    code,
    emoji_icon,
    external_file,
    heading,
    image,
    paragraph,
    table,
    text,
    toggle,
)
from syncline.sandbox.notion.samples import populate
from tests.integration.sandbox.notion.conftest import START, children_all

UUID_LEN = 36


def test_times_are_rounded_down_to_the_minute(notion, clock, api):
    """`created_time` and `last_edited_time` show the minute the change happened in
    (`...T10:00:00.000Z`), so two edits 40 seconds apart inside one minute look the same and
    the next minute shows."""
    clock.advance(5)  # 10:00:05
    page = notion.add_page("Timed")
    notion.share(page)
    clock.advance(40)  # 10:00:45
    notion.edit_page(page, title="Timed again")
    same_minute = api.get(f"/v1/pages/{page}").json()
    clock.advance(20)  # 10:01:05
    notion.touch(page)
    next_minute = api.get(f"/v1/pages/{page}").json()

    assert "2024-05-01T10:00:00.000Z" == same_minute["created_time"]
    assert "2024-05-01T10:00:00.000Z" == same_minute["last_edited_time"]
    assert "2024-05-01T10:01:00.000Z" == next_minute["last_edited_time"]
    assert "2024-05-01T10:00:00.000Z" == next_minute["created_time"]


def test_a_page_has_notions_fields(notion, api):
    """A workspace-level page carries `object`, a dashed `id`, the times, partial
    `created_by`/`last_edited_by`, `icon`, `cover`, a workspace `parent`, `archived` and
    `in_trash`, a `title` property with id `title`, and a notion.so `url` ending in the
    dashless id; ids work with or without dashes."""
    page = notion.add_page(
        "Q3 plan", icon=emoji_icon("📈"), cover=external_file("https://example.com/c.png")
    )
    notion.share(page)

    body = api.get(f"/v1/pages/{page.replace('-', '')}").json()

    assert ("page", page, UUID_LEN) == (body["object"], body["id"], len(body["id"]))
    assert {"type": "workspace", "workspace": True} == body["parent"]
    assert {"type": "emoji", "emoji": "📈"} == body["icon"]
    assert {"type": "external", "external": {"url": "https://example.com/c.png"}} == body["cover"]
    assert (False, False) == (body["archived"], body["in_trash"])
    assert {"object", "id"} == set(body["created_by"])
    assert f"https://www.notion.so/Q3-plan-{page.replace('-', '')}" == body["url"]
    title = body["properties"]["title"]
    assert ("title", "title") == (title["id"], title["type"])
    assert "Q3 plan" == title["title"][0]["text"]["content"]


def test_a_rows_parent_and_properties_follow_the_version(notion, api, old_api):
    """A database row's parent is `database_id` under `2022-06-28` and `data_source_id` (with
    `database_id`) under `2025-09-03`; its properties render by type: select and
    multi_select options, number, date, checkbox, people as users, url, rich text, and the
    computed created and last edited times."""
    root = notion.add_page("Wiki")
    notion.share(root)
    db = notion.add_database(
        "Tasks",
        root,
        {
            "Name": "title",
            "Status": ("select", ["Todo", "Done"]),
            "Tags": ("multi_select", ["a", "b"]),
            "Points": "number",
            "Due": "date",
            "Done": "checkbox",
            "Owner": "people",
            "Link": "url",
            "Notes": "rich_text",
            "Edited": "last_edited_time",
        },
    )
    alice = notion.default_person()
    row = notion.add_row(
        db,
        {
            "Name": "Write", "Status": "Done", "Tags": ["b"], "Points": 3, "Due": "2024-05-09",
            "Done": True, "Owner": [alice], "Link": "https://example.com", "Notes": "soon",
        },
    )  # fmt: skip
    source = notion.databases[db].data_source_id

    old = old_api.get(f"/v1/pages/{row}").json()
    new = api.get(f"/v1/pages/{row}").json()
    props = new["properties"]

    assert {"type": "database_id", "database_id": db} == old["parent"]
    assert {"type": "data_source_id", "data_source_id": source, "database_id": db} == new["parent"]
    assert "Done" == props["Status"]["select"]["name"]
    assert ["b"] == [o["name"] for o in props["Tags"]["multi_select"]]
    assert (3, True) == (props["Points"]["number"], props["Done"]["checkbox"])
    assert {"start": "2024-05-09", "end": None, "time_zone": None} == props["Due"]["date"]
    assert [("person", "alice@example.com")] == [
        (p["type"], p["person"]["email"]) for p in props["Owner"]["people"]
    ]
    assert "https://example.com" == props["Link"]["url"]
    assert "soon" == props["Notes"]["rich_text"][0]["plain_text"]
    assert "2024-05-01T10:00:00.000Z" == props["Edited"]["last_edited_time"]
    assert "title" == props["Name"]["id"]
    assert "title" != props["Status"]["id"]


def test_block_children_page_and_nest_and_stop_at_child_pages(notion, api):
    """A page's content lists in pages of `page_size` following `next_cursor`; a block with
    children says `has_children: true` and its own children list them; a sub-page shows as a
    `child_page` block with its title, whose children are the sub-page's content."""
    page = notion.add_page(
        "Doc",
        content=[
            heading(1, "Title"),
            *[paragraph(f"line {n}") for n in range(7)],
            toggle("More", children=[bulleted("inner", children=[paragraph("deepest")])]),
        ],
    )
    notion.share(page)
    sub = notion.add_page("Sub page", page, content=[paragraph("inside sub")])

    first = api.get(f"/v1/blocks/{page}/children", params={"page_size": 4}).json()
    blocks = children_all(api, page, page_size=4)
    toggle_block = next(b for b in blocks if b["type"] == "toggle")
    inner = children_all(api, toggle_block["id"])
    deepest = children_all(api, inner[0]["id"])
    child_page = blocks[-1]

    assert ("list", "block", {}) == (first["object"], first["type"], first["block"])
    assert (4, True) == (len(first["results"]), first["has_more"])
    assert 10 == len(blocks)
    assert ["heading_1", *["paragraph"] * 7, "toggle", "child_page"] == [b["type"] for b in blocks]
    assert (True, "bulleted_list_item", True) == (
        toggle_block["has_children"],
        inner[0]["type"],
        inner[0]["has_children"],
    )
    assert "deepest" == deepest[0]["paragraph"]["rich_text"][0]["plain_text"]
    assert {"type": "block_id", "block_id": inner[0]["id"]} == deepest[0]["parent"]
    assert (sub, {"title": "Sub page"}, True) == (
        child_page["id"],
        child_page["child_page"],
        child_page["has_children"],
    )
    assert "inside sub" == children_all(api, sub)[0]["paragraph"]["rich_text"][0]["plain_text"]


def test_block_children_refuse_a_page_size_above_100(notion, api):
    """`page_size=101` on block children is 400 `validation_error` naming `query.page_size`."""
    page = notion.add_page("Doc")
    notion.share(page)

    answer = api.get(f"/v1/blocks/{page}/children", params={"page_size": 101})

    assert (400, "validation_error") == (answer.status_code, answer.json()["code"])
    assert "query.page_size should be ≤ `100`" in answer.json()["message"]


def test_rich_text_keeps_annotations_links_and_equations(notion, api):
    """Spans carry all six annotations, `plain_text`, `href` for links; code blocks their
    `language` and `caption`; images an external URL; tables their rows as `table_row`
    children with cells of rich text."""
    page = notion.add_page(
        "Styled",
        content=[
            paragraph("plain ", text("bold", bold=True), text("link", link="https://x.test")),
            code("print(1)", "python", caption="demo"),
            image("https://example.com/i.png"),
            table([["a", "b"], ["c", "d"]], has_column_header=True),
        ],
    )
    notion.share(page)

    blocks = children_all(api, page)
    spans = blocks[0]["paragraph"]["rich_text"]
    rows = children_all(api, blocks[3]["id"])

    assert {"bold", "italic", "strikethrough", "underline", "code", "color"} == set(
        spans[1]["annotations"]
    )
    assert (True, None) == (spans[1]["annotations"]["bold"], spans[1]["href"])
    assert ("https://x.test", {"url": "https://x.test"}) == (
        spans[2]["href"],
        spans[2]["text"]["link"],
    )
    assert ("python", "demo") == (
        blocks[1]["code"]["language"],
        blocks[1]["code"]["caption"][0]["plain_text"],
    )
    assert {
        "type": "external",
        "external": {"url": "https://example.com/i.png"},
        "caption": [],
    } == (blocks[2]["image"])
    assert (2, True) == (blocks[3]["table"]["table_width"], blocks[3]["table"]["has_column_header"])
    assert [["a", "b"], ["c", "d"]] == [
        [cell[0]["plain_text"] for cell in r["table_row"]["cells"]] for r in rows
    ]


def test_retrieving_a_block_by_a_pages_id_answers_a_child_page_block(notion, api):
    """`GET /v1/blocks/{page}` is the page as a `child_page` block; `GET /v1/pages/{database}`
    is refused: "is a database, not a page"."""
    root = notion.add_page("Root")
    notion.share(root)
    sub = notion.add_page("Sub", root)
    db = notion.add_database("Tasks", root, {"Name": "title"})

    block = api.get(f"/v1/blocks/{sub}").json()
    wrong = api.get(f"/v1/pages/{db}")
    child_db = api.get(f"/v1/blocks/{db}").json()

    assert ("child_page", {"type": "page_id", "page_id": root}) == (block["type"], block["parent"])
    assert (400, "validation_error") == (wrong.status_code, wrong.json()["code"])
    assert f"Provided ID {db} is a database, not a page" in wrong.json()["message"]
    assert ("child_database", {"title": "Tasks"}) == (child_db["type"], child_db["child_database"])


def test_databases_split_into_data_sources_from_2025(notion, api, old_api):
    """`GET /v1/databases/{id}` has `properties` under `2022-06-28`; under `2025-09-03` it lists
    `data_sources` and the schema is at `GET /v1/data_sources/{id}`, which the older version
    does not have."""
    root = notion.add_page("Root")
    notion.share(root)
    db = notion.add_database("Tasks", root, {"Name": "title", "Done": "checkbox"})
    source = notion.databases[db].data_source_id

    old = old_api.get(f"/v1/databases/{db}").json()
    new = api.get(f"/v1/databases/{db}").json()
    data_source = api.get(f"/v1/data_sources/{source}").json()
    missing = old_api.get(f"/v1/data_sources/{source}")

    assert {"Name", "Done"} == set(old["properties"])
    assert "title" == old["properties"]["Name"]["type"]
    assert "properties" not in new
    assert [{"id": source, "name": "Tasks"}] == new["data_sources"]
    assert ("data_source", {"Name", "Done"}) == (
        data_source["object"],
        set(data_source["properties"]),
    )
    assert {"type": "page_id", "page_id": root} == data_source["database_parent"]
    assert (400, "invalid_request_url") == (missing.status_code, missing.json()["code"])


@pytest.mark.parametrize("version", ["old", "new"])
def test_a_query_filters_sorts_and_pages_rows(notion, clock, api, old_api, version):
    """A query (`/databases/{id}/query` before `2025-09-03`, `/data_sources/{id}/query` after)
    keeps rows matching a compound filter, orders them by a property, pages them by cursor,
    and leaves out trashed rows; the other version's endpoint is `invalid_request_url`."""
    root = notion.add_page("Root")
    notion.share(root)
    db = notion.add_database(
        "Tasks", root, {"Name": "title", "Points": "number", "Done": "checkbox"}
    )
    for n in range(6):
        clock.advance(61)
        notion.add_row(db, {"Name": f"T{n}", "Points": n, "Done": n % 2 == 0})
    trashed = notion.add_row(db, {"Name": "gone", "Points": 9, "Done": True})
    notion.trash(trashed)
    http = old_api if version == "old" else api
    path = (
        f"/v1/databases/{db}/query"
        if version == "old"
        else f"/v1/data_sources/{notion.databases[db].data_source_id}/query"
    )
    other = (
        api.post(f"/v1/databases/{db}/query")
        if version == "new"
        else old_api.post(f"/v1/data_sources/{notion.databases[db].data_source_id}/query")
    )
    body = {
        "filter": {
            "and": [
                {"property": "Done", "checkbox": {"equals": True}},
                {
                    "timestamp": "last_edited_time",
                    "last_edited_time": {"on_or_after": "2024-05-01"},
                },
            ]
        },
        "sorts": [{"property": "Points", "direction": "descending"}],
        "page_size": 2,
    }

    first = http.post(path, json=body).json()
    second = http.post(path, json={**body, "start_cursor": first["next_cursor"]}).json()
    titles = [r["properties"]["Name"]["title"][0]["plain_text"] for r in first["results"]]
    titles += [r["properties"]["Name"]["title"][0]["plain_text"] for r in second["results"]]

    assert ["T4", "T2", "T0"] == titles
    assert (True, False) == (first["has_more"], second["has_more"])
    assert ("page_or_database" if version == "old" else "page_or_data_source") == first["type"]
    assert (400, "invalid_request_url") == (other.status_code, other.json()["code"])


def test_a_query_refuses_unknown_properties_and_mismatched_filters(notion, api):
    """A filter on a property the database lacks, or with the wrong type key, is a 400
    `validation_error`."""
    root = notion.add_page("Root")
    notion.share(root)
    db = notion.add_database("Tasks", root, {"Name": "title", "Done": "checkbox"})
    path = f"/v1/data_sources/{notion.databases[db].data_source_id}/query"

    unknown = api.post(path, json={"filter": {"property": "Nope", "checkbox": {"equals": True}}})
    wrong = api.post(path, json={"filter": {"property": "Done", "select": {"equals": "x"}}})

    assert (400, "Could not find property with name or id: Nope") == (
        unknown.status_code,
        unknown.json()["message"],
    )
    assert (400, "validation_error") == (wrong.status_code, wrong.json()["code"])


def test_the_sample_workspace_renders_every_block_type(notion, api):
    """`populate` makes a shared wiki whose blocks, walked recursively (not into child pages),
    cover the common types, and whose database, private page and trashed draft behave."""
    samples = populate(notion)
    seen: set[str] = set()
    pending = [samples.paths["Engineering"]]
    while pending:
        for block in children_all(api, pending.pop()):
            seen.add(block["type"])
            if block["has_children"] and block["type"] not in ("child_page", "child_database"):
                pending.append(block["id"])
    private = api.get(f"/v1/pages/{samples.paths['Private']}")

    assert {
        "heading_1", "heading_2", "heading_3", "paragraph", "callout", "bulleted_list_item",
        "numbered_list_item", "to_do", "toggle", "code", "quote", "divider", "image",
        "bookmark", "equation", "table", "table_row", "child_page", "child_database",
    } <= seen  # fmt: skip
    assert 404 == private.status_code
    assert START <= notion.clock()

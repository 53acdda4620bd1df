"""A Notion page as a File record: the title, the parents, the timestamps, the hash it is
given, and every property type as a plain value (shapes from developers.notion.com's page
property values reference)."""

from __future__ import annotations

from typing import Any

import pytest

from syncline.connectors.notion.normalize import (
    edited_at,
    is_trashed,
    normalize_page,
    parent_ref,
    plain_value,
    properties_of,
    timestamp,
    title_of,
)
from syncline.errors import UpstreamResponseError
from syncline.pipelines import validate_record

PAGE_ID = "59833787-2cf9-4fdf-8782-e53db20768a5"
PARENT = "7f2d0000-0000-4000-8000-000000000001"
DATABASE = "d7050000-0000-4000-8000-000000000002"


def _title(text: str) -> dict[str, Any]:
    return {"id": "title", "type": "title", "title": [{"type": "text", "plain_text": text}]}


def _page(**fields: Any) -> dict[str, Any]:
    return {
        "object": "page",
        "id": PAGE_ID,
        "created_time": "2024-05-01T09:00:00.000Z",
        "last_edited_time": "2024-05-02T10:11:00.000Z",
        "in_trash": False,
        "archived": False,
        "parent": {"type": "page_id", "page_id": PARENT},
        "properties": {"title": _title("Q3 plan")},
        "url": "https://www.notion.so/Q3-plan-598337872cf94fdf8782e53db20768a5",
        **fields,
    }


def test_a_sub_page_is_a_markdown_file_record_under_its_parent_page():
    """The title property is the name; the parent page is both `parentId` and
    `parentFolderId`; the given content hash is a SHA256; timestamps are UTC with
    milliseconds; the record is valid for the `files` pipeline."""
    upsert = normalize_page(_page(), content_hash="ab" * 32, folder_id=PARENT)
    data = upsert.data

    validate_record("files", data)
    assert PAGE_ID == upsert.external_id
    assert (False, (PARENT,)) == (upsert.is_folder, upsert.parent_ids)
    assert "Q3 plan" == data["name"]
    assert "text/markdown" == data["mimeType"]
    assert {"type": "SHA256", "value": "ab" * 32} == data["hash"]
    assert (PARENT, PARENT) == (data["parentId"], data["parentFolderId"])
    assert ("2024-05-01T09:00:00.000Z", "2024-05-02T10:11:00.000Z") == (
        data["createdAt"],
        data["updatedAt"],
    )
    assert {"title": "Q3 plan"} == data["customFields"]
    assert str(data["url"]).startswith("https://www.notion.so/")
    assert None is data["size"]


def test_a_row_names_its_database_as_parent_and_the_page_holding_it_as_folder():
    """A database row (2025-09-03: `data_source_id` with `database_id`) has the database as
    `parentId` and the page the database sits in as `parentFolderId`."""
    row = _page(
        parent={"type": "data_source_id", "data_source_id": "ds-1", "database_id": DATABASE},
        properties={"Name": _title("Write docs")},
    )
    data = normalize_page(row, content_hash="0" * 64, folder_id=PARENT).data

    assert (DATABASE, PARENT) == (data["parentId"], data["parentFolderId"])
    assert "Write docs" == data["name"]


def test_a_page_in_a_block_belongs_to_the_page_holding_the_block():
    """A page inside a toggle or column names a block; its record names the page."""
    inside = _page(parent={"type": "block_id", "block_id": "b-1"})
    data = normalize_page(inside, content_hash="0" * 64, folder_id=PARENT).data

    assert (PARENT, PARENT) == (data["parentId"], data["parentFolderId"])


def test_a_top_level_page_has_no_parent_and_an_untitled_page_no_name():
    """A page at the workspace's top has no parent; an empty title is an empty name."""
    top = _page(parent={"type": "workspace", "workspace": True}, properties={"title": _title("")})
    data = normalize_page(top, content_hash="0" * 64, folder_id=None).data

    assert (None, None, "") == (data["parentId"], data["parentFolderId"], data["name"])


def test_a_page_without_an_id_is_the_upstreams_error():
    """A page object without an id cannot become a record."""
    with pytest.raises(UpstreamResponseError):
        normalize_page({"object": "page"}, content_hash="0" * 64, folder_id=None)


@pytest.mark.parametrize(
    ("parent", "expected"),
    [
        ({"type": "page_id", "page_id": "p"}, ("page", "p")),
        ({"type": "block_id", "block_id": "b"}, ("block", "b")),
        ({"type": "database_id", "database_id": "d"}, ("database", "d")),
        ({"type": "data_source_id", "data_source_id": "s", "database_id": "d"}, ("database", "d")),
        ({"type": "workspace", "workspace": True}, None),
        (None, None),
    ],
)
def test_parent_references_in_both_api_versions(parent, expected):
    """Every parent type of 2022-06-28 and 2025-09-03 names a page, block or database."""
    assert expected == parent_ref({"parent": parent})


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"in_trash": False, "archived": False}, False),
        ({"in_trash": True}, True),
        ({"archived": True}, True),
        ({"in_trash": False, "is_archived": True}, True),
    ],
)
def test_in_trash_archived_or_is_archived_is_trashed(flags, expected):
    """`in_trash`, its older alias `archived`, and the newer `is_archived` all mean gone."""
    assert expected is is_trashed(flags)


def test_timestamps_are_utc_with_milliseconds():
    """Offsets become UTC; unreadable times are None; `edited_at` is the edit as a datetime."""
    assert "2024-05-02T08:11:00.000Z" == timestamp("2024-05-02T10:11:00+02:00")
    assert None is timestamp("yesterday")
    moment = edited_at({"last_edited_time": "2024-05-02T10:11:00.000Z"})
    assert moment is not None
    assert "2024-05-02T10:11:00+00:00" == moment.isoformat()


def _prop(kind: str, value: Any) -> dict[str, Any]:
    return {"id": "x", "type": kind, kind: value}


PERSON = {"object": "user", "id": "u1", "name": "Alice", "person": {"email": "a@example.com"}}


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        (_prop("rich_text", [{"plain_text": "a"}, {"plain_text": "b"}]), "ab"),
        (_prop("number", 2.5), 2.5),
        (_prop("number", None), None),
        (_prop("select", {"id": "1", "name": "Done", "color": "green"}), "Done"),
        (_prop("select", None), None),
        (_prop("status", {"name": "In progress"}), "In progress"),
        (_prop("multi_select", [{"name": "docs"}, {"name": "infra"}]), ["docs", "infra"]),
        (_prop("date", {"start": "2024-05-01", "end": None, "time_zone": None}), "2024-05-01"),
        (_prop("date", {"start": "2024-05-01", "end": "2024-05-03"}), "2024-05-01/2024-05-03"),
        (_prop("checkbox", True), True),
        (_prop("url", "https://example.com"), "https://example.com"),
        (_prop("email", "a@example.com"), "a@example.com"),
        (_prop("phone_number", "+1 555"), "+1 555"),
        (_prop("people", [PERSON, {"object": "user", "id": "u2"}]), ["Alice", "u2"]),
        (_prop("created_by", PERSON), "Alice"),
        (_prop("last_edited_by", {"object": "user", "id": "u2"}), "u2"),
        (_prop("created_time", "2024-05-01T09:00:00.000Z"), "2024-05-01T09:00:00.000Z"),
        (_prop("last_edited_time", "2024-05-02T10:11:00.000Z"), "2024-05-02T10:11:00.000Z"),
        (_prop("files", [{"name": "a.pdf", "type": "file", "file": {"url": "u"}}]), ["a.pdf"]),
        (_prop("relation", [{"id": "p1"}, {"id": "p2"}]), ["p1", "p2"]),
        (_prop("formula", {"type": "number", "number": 7}), 7),
        (_prop("formula", {"type": "date", "date": {"start": "2024-06-01"}}), "2024-06-01"),
        (_prop("rollup", {"type": "number", "number": 3, "function": "sum"}), 3),
        (
            _prop("rollup", {"type": "array", "array": [_prop("number", 1), _prop("number", 2)]}),
            [1, 2],
        ),
        (_prop("unique_id", {"number": 42, "prefix": "ENG"}), "ENG-42"),
        (_prop("unique_id", {"number": 42, "prefix": None}), 42),
        (_prop("verification", {"state": "verified"}), "verified"),
        (_prop("button", {}), None),
    ],
)
def test_every_property_type_is_a_plain_value(prop, expected):
    """Each property type of a database row becomes the plain JSON value a reader expects."""
    assert expected == plain_value(prop)


def test_properties_lead_with_the_title_then_go_by_name():
    """The title property first, the others sorted by name: the order Notion sends is not
    promised, and the record's hash must not follow it."""
    page = _page(
        properties={
            "Status": _prop("select", {"name": "Done"}),
            "Name": _title("Write docs"),
            "Points": _prop("number", 2),
        }
    )

    assert ["Name", "Points", "Status"] == list(properties_of(page))
    assert "Write docs" == title_of(page)

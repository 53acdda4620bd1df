"""The `fields` selector: Google's partial-response syntax."""

import pytest

from syncline.sandbox.googledrive.fields import (
    ANY_OBJECT,
    FieldsError,
    parse_fields,
    select,
    validate,
)
from syncline.types import JSON

SCHEMA = {
    "kind": None,
    "nextPageToken": None,
    "files": {
        "id": None,
        "name": None,
        "owners": {"emailAddress": None},
        "exportLinks": ANY_OBJECT,
    },
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind", {"kind": None}),
        (
            "nextPageToken, files(id, name)",
            {"nextPageToken": None, "files": {"id": None, "name": None}},
        ),
        ("files/id,files/name", {"files": {"id": None, "name": None}}),
        ("files(owners(emailAddress))", {"files": {"owners": {"emailAddress": None}}}),
        ("files/owners/emailAddress", {"files": {"owners": {"emailAddress": None}}}),
        ("*", {"*": None}),
        ("files(*)", {"files": {"*": None}}),
        ("files,files(id)", {"files": None}),
    ],
)
def test_parse_fields(text, expected):
    """Comma lists, nested parentheses, slash paths and `*` parse into one mask; a whole
    selection absorbs a narrower one of the same name."""
    assert expected == parse_fields(text)


@pytest.mark.parametrize("text", ["files(id", "files)", "files(,)", "a b", "files()", ","])
def test_parse_fields_rejects_malformed(text):
    """Unbalanced or empty selections are errors, not silently ignored."""
    with pytest.raises(FieldsError):
        parse_fields(text)


def test_validate_names_the_unknown_field():
    """An unknown name anywhere in the selection is reported by name, as Google does."""
    with pytest.raises(FieldsError) as info:
        validate(parse_fields("nextPageToken,files(id,title)"), SCHEMA)

    assert "title" == info.value.name
    assert "Invalid field selection title" == str(info.value)


def test_validate_rejects_selection_inside_a_scalar():
    """`name(x)` is invalid: scalars have no members."""
    with pytest.raises(FieldsError):
        validate(parse_fields("files(name(x))"), SCHEMA)


def test_validate_accepts_anything_inside_opaque_objects_and_star():
    """Objects the fake does not model accept any member; `*` is always valid."""
    validate(parse_fields("*,files(exportLinks(whatever),owners(emailAddress))"), SCHEMA)


def test_select_keeps_only_selected_parts_of_lists_and_objects():
    """Selection applies to every element of a list and recurses into objects."""
    value: JSON = {
        "kind": "k",
        "files": [{"id": "1", "name": "a", "owners": [{"emailAddress": "x", "me": True}]}],
    }

    expected = {"files": [{"id": "1", "owners": [{"emailAddress": "x"}]}]}
    assert expected == select(value, parse_fields("files(id,owners/emailAddress)"))

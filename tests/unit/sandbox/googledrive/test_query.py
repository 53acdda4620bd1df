"""The supported `q` subset of files.list."""

import pytest

from syncline.sandbox.googledrive.model import DriveFile
from syncline.sandbox.googledrive.query import QueryError, parse_query


def item(parent="P", mime="text/plain", trashed=False):
    return DriveFile("id", "n", mime, parent, None, "a", b"", 0.0, 0.0, (), trashed=trashed)


@pytest.mark.parametrize(
    ("q", "matching", "other"),
    [
        ("'P' in parents", item(), item(parent="Q")),
        ("trashed = false", item(), item(trashed=True)),
        ("trashed=true", item(trashed=True), item()),
        ("trashed != true", item(), item(trashed=True)),
        ("mimeType = 'text/plain'", item(), item(mime="application/pdf")),
        ('mimeType != "text/plain"', item(mime="application/pdf"), item()),
        ("'P' in parents and trashed = false", item(), item(trashed=True)),
        (
            "('P' in parents or 'Q' in parents) and trashed = false",
            item(parent="Q"),
            item(parent="R"),
        ),
        (
            "'P' in parents AND mimeType != 'application/vnd.google-apps.folder'",
            item(),
            item(parent="Q"),
        ),
    ],
)
def test_supported_terms_filter(q, matching, other):
    """Each supported term and combination matches what it says and nothing else."""
    query = parse_query(q)

    assert (True, False) == (query.matches(matching), query.matches(other))


@pytest.mark.parametrize(
    ("q", "folders"),
    [
        ("trashed = false", None),
        ("'P' in parents", ("P",)),
        ("trashed = false and 'P' in parents", ("P",)),
        ("('P' in parents or 'Q' in parents) and trashed = false", ("P", "Q")),
        ("'P' in parents or trashed = true", None),
    ],
)
def test_folders_pin_the_listing_only_when_every_match_has_them(q, folders):
    """A listing may walk folder children instead of every file only when the query implies
    the parent."""
    assert folders == parse_query(q).folders


def test_root_alias_resolves():
    """`'root' in parents` means the caller's My Drive root."""
    query = parse_query("'root' in parents", lambda fid: "ROOT" if fid == "root" else fid)

    assert ("ROOT",) == query.folders
    assert query.matches(item(parent="ROOT"))


def test_escaped_quote_in_literal():
    """Backslash escapes a quote inside a literal."""
    assert ("it's",) == parse_query(r"'it\'s' in parents").folders


@pytest.mark.parametrize(
    "q",
    [
        "name contains 'x'",
        "modifiedTime > '2024-01-01T00:00:00'",
        "'P' in parents and",
        "('P' in parents",
        "trashed = maybe",
        "mimeType = text/plain",
        "'P' in owners",
        "fullText contains 'x'",
    ],
)
def test_unsupported_or_malformed_queries_are_refused(q):
    """Anything outside the subset is an error rather than a silent misreading."""
    with pytest.raises(QueryError):
        parse_query(q)

"""The Confluence connector's pure parts: configuration, records and the HTML document of a
page, the window's CQL, and the spec (OAuth, URLs, capabilities), from Confluence's documented
shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from syncline.connectors.base import ChangeStrategy
from syncline.connectors.confluence import spec
from syncline.connectors.confluence.config import ConfluenceConfig
from syncline.connectors.confluence.connector import SEARCH_SLACK, scope_cql, window_cql
from syncline.connectors.confluence.normalize import html_document, normalize_page, timestamp
from syncline.domain.permissions import Access
from syncline.errors import UpstreamResponseError
from syncline.pipelines import validate_record
from syncline.types import JSONObject

PAGE: JSONObject = {
    "id": "123456", "status": "current", "title": "Runbook", "spaceId": "98765",
    "parentId": "111", "parentType": "page", "authorId": "557058:a", "ownerId": "557058:b",
    "createdAt": "2024-05-01T09:00:00.000Z",
    "version": {"number": 7, "createdAt": "2024-05-02T10:11:12.345+02:00", "authorId": "557058:c"},
    "_links": {"webui": "/spaces/ENG/pages/123456/Runbook", "tinyui": "/x/QAE"},
}  # fmt: skip


def test_the_config_takes_a_space_and_page_trees_and_refuses_the_rest():
    """`spaceId` and `pageIds` are numeric ids (repeats dropped); both may be given; an empty
    list, a key, a non-numeric id or an unknown key is refused."""
    both = ConfluenceConfig.model_validate({"spaceId": "98305", "pageIds": ["1", " 2 ", "1"]})

    assert ("98305", ["1", "2"]) == (both.space_id, both.page_ids)
    bad_ones: list[dict[str, object]] = [
        {"pageIds": []},
        {"spaceId": "ENG"},
        {"pageIds": ["Runbook"]},
        {"folderId": "1"},
    ]
    for bad in bad_ones:
        with pytest.raises(ValidationError):
            ConfluenceConfig.model_validate(bad)


def test_a_page_is_a_valid_html_file_record_hashed_by_its_version():
    """Title, parent page, web UI link, times in UTC, the version as the hash, and the space,
    status, version and authors in `customFields`."""
    record = normalize_page(PAGE, "https://acme.atlassian.net/wiki", Access((), "98765"))
    data = record.data

    validate_record("files", data)
    assert ("123456", False, (), Access((), "98765")) == (
        record.external_id,
        record.is_folder,
        record.parent_ids,
        record.access,
    )
    assert {
        "name": "Runbook",
        "mimeType": "text/html",
        "size": None,
        "url": "https://acme.atlassian.net/wiki/spaces/ENG/pages/123456/Runbook",
        "createdAt": "2024-05-01T09:00:00.000Z",
        "updatedAt": "2024-05-02T08:11:12.345Z",
        "hash": {"type": "CONFLUENCE_VERSION", "value": "7"},
        "parentFolderId": "111",
        "parentId": "111",
    }.items() <= data.items()
    assert {
        "spaceId": "98765",
        "status": "current",
        "version": 7,
        "authorId": "557058:a",
        "ownerId": "557058:b",
        "versionAuthorId": "557058:c",
        "parentType": "page",
    } == data["customFields"]


def test_a_page_without_an_id_is_refused_and_one_without_links_has_no_url():
    """No id: Confluence sent something unusable. No `webui`: no url."""
    with pytest.raises(UpstreamResponseError):
        normalize_page({"title": "x"}, None)

    assert normalize_page({"id": "1"}, None).data["url"] is None


def test_timestamps_are_utc_with_milliseconds():
    """Offsets are folded into UTC; garbage is None."""
    assert "2024-05-02T08:11:12.000Z" == timestamp("2024-05-02T10:11:12+02:00")
    assert timestamp("yesterday") is None


def test_the_html_document_escapes_the_title_and_keeps_the_body():
    """The rendering goes in as it is; the title and base are escaped."""
    document = html_document('<Q3> & "more"', "<p>Hi</p>", "https://acme.atlassian.net/wiki")

    assert document.startswith(b"<!DOCTYPE html>")
    assert b"<title>&lt;Q3&gt; &amp; &quot;more&quot;</title>" in document
    assert b'<base href="https://acme.atlassian.net/wiki/">' in document
    assert b"<body><p>Hi</p></body>" in document


def test_the_window_bound_is_relative_to_confluences_clock_with_slack():
    """`now("-Nm")` with N the minutes the window's start is behind now, plus the slack: no
    date string, so no time zone; newest first, so the scan can stop at the window."""
    now = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    minutes = int((timedelta(minutes=7, seconds=30) + SEARCH_SLACK).total_seconds() // 60) + 1

    assert (
        f'type = page AND lastmodified >= now("-{minutes}m") ORDER BY lastmodified DESC'
        == window_cql("type = page", now - timedelta(minutes=7, seconds=30), now)
    )


def test_the_scope_clause_names_the_space_by_key_and_the_trees_by_id_and_ancestor():
    """CQL's documented `space` field takes the key (quoted, escaped); trees are the roots and
    their descendants."""
    assert "type = page" == scope_cql(None, None)
    assert 'type = page AND space = "E\\"NG" AND (id in (1, 2) OR ancestor in (1, 2))' == (
        scope_cql('E"NG', ["1", "2"])
    )


def test_the_spec_speaks_atlassians_3lo():
    """The gateway as API URL, accessible-resources beside it, a JSON token body, the
    `audience` Atlassian requires, `offline_access` for a refresh token, and a window of
    edits with an overlap of minutes."""
    assert "https://api.atlassian.com" == spec.default_api_url
    assert "https://auth.atlassian.com/oauth/token" == spec.default_token_url
    assert {"resources": "https://api.atlassian.com/oauth/token/accessible-resources"} == dict(
        spec.extra_urls
    )
    assert spec.oauth is not None
    assert "json" == spec.oauth.body_format
    assert "api.atlassian.com" == spec.oauth.authorize_params["audience"]
    assert "offline_access" in spec.oauth.scopes
    assert not spec.oauth.pkce
    assert ChangeStrategy.WINDOW is spec.capabilities.changes
    assert timedelta(minutes=1) <= spec.capabilities.window_overlap
    assert spec.check is not None
    assert spec.identify is not None

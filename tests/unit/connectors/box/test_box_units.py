"""The Box connector's pure parts: configuration, records, errors and grants, from Box's
documented shapes."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from syncline.connectors.box.config import BoxConfig
from syncline.connectors.box.errors import raise_for_box
from syncline.connectors.box.normalize import normalize_item
from syncline.connectors.box.permissions import collaboration_grant, item_grants
from syncline.domain.permissions import ANYONE, Grant, Relation
from syncline.errors import (
    CursorInvalid,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from syncline.pipelines import validate_record
from syncline.types import JSONObject

FILE: JSONObject = {
    "type": "file", "id": "12345", "sequence_id": "3", "etag": "3", "name": "Contract.pdf",
    "size": 629644, "sha1": "85136C79CBF9FE36BB9D05D0639C70C265C18D37",
    "created_at": "2024-05-02T10:53:43-07:00", "modified_at": "2024-05-02T10:53:43-07:00",
    "item_status": "active", "parent": {"type": "folder", "id": "0"},
    "owned_by": {"type": "user", "id": "1", "name": "Aaron", "login": "Ceo@Example.com"},
    "shared_link": {"access": "open", "effective_access": "company"},
}  # fmt: skip


def _error(status: int, body: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_the_config_takes_api_md_keys_and_refuses_two_scopes_or_unknown_keys():
    """`folderId`, `fileIds`, `mimeTypes` are accepted; both scopes, an unknown key, or an id
    that is not Box's numeric form are refused."""
    config = BoxConfig.model_validate({"fileIds": ["1", "1", "2"], "mimeTypes": ["text/plain"]})
    assert ["1", "2"] == config.file_ids
    for bad in ({"folderId": "1", "fileIds": ["2"]}, {"folder": "1"}, {"folderId": "abc"}):
        with pytest.raises(ValidationError):
            BoxConfig.model_validate(bad)


def test_a_file_is_a_valid_record_with_sha1_utc_times_and_box_fields():
    """`sha1` becomes a SHA1 hash, offsets become UTC with milliseconds, the MIME type comes
    from the extension, and the owner and sequence id go to customFields."""
    upsert = normalize_item(FILE)
    data = upsert.data
    validate_record("files", data)
    assert {"type": "SHA1", "value": FILE["sha1"]} == data["hash"]
    assert "2024-05-02T17:53:43.000Z" == data["createdAt"]
    assert "application/pdf" == data["mimeType"]
    assert "0" == data["parentFolderId"]
    assert ("0",) == upsert.parent_ids
    custom = data["customFields"]
    assert isinstance(custom, dict)
    assert "3" == custom["sequenceId"]
    assert "shared_link" not in custom  # sharing travels in `access`


def test_a_web_link_is_recorded_with_its_target_and_no_hash():
    """A web link has no bytes: `text/uri-list`, its URL in `url`, no size or hash."""
    link: JSONObject = {"type": "web_link", "id": "9", "name": "Box", "url": "https://www.box.com",
            "parent": {"type": "folder", "id": "5"}}  # fmt: skip
    data = normalize_item(link).data
    validate_record("files", data)
    assert ("text/uri-list", "https://www.box.com", None) == (
        data["mimeType"], data["url"], data["hash"]
    )  # fmt: skip


def test_box_errors_map_to_syncline_errors():
    """429 carries its Retry-After; 400 naming `stream_position` is a stale cursor; 404, 403
    and 503 map as the engine expects."""
    with pytest.raises(UpstreamRateLimited) as limited:
        raise_for_box(_error(429, {"code": "rate_limit_exceeded"}, **{"Retry-After": "7"}))
    assert 7 == limited.value.retry_after.total_seconds()  # type: ignore[union-attr]
    errors = [{"reason": "invalid_parameter", "name": "stream_position"}]
    stale = {"type": "error", "status": 400, "context_info": {"errors": errors}}
    with pytest.raises(CursorInvalid):
        raise_for_box(_error(400, stale))
    with pytest.raises(UpstreamNotFound):
        raise_for_box(_error(404, {"type": "error", "code": "not_found"}))
    with pytest.raises(UpstreamPermissionDenied):
        raise_for_box(_error(403, {"code": "access_denied_insufficient_permissions"}))
    with pytest.raises(UpstreamUnavailable):
        raise_for_box(httpx.Response(503, text="<html>busy</html>"))


def test_collaborations_map_onto_relations_and_skip_what_grants_no_reading():
    """co-owner is owner, viewer uploader is viewer; uploader (cannot open files) and pending
    invitations give nothing; groups are named by id."""

    def collab(role: str, status: str = "accepted", kind: str = "user") -> JSONObject:
        who: JSONObject = {"type": kind, "id": "77", "login": "Bob@example.com"}
        return {"type": "collaboration", "role": role, "status": status, "accessible_by": who}

    assert Grant(Relation.OWNER, "user:bob@example.com") == collaboration_grant(collab("co-owner"))
    assert Grant(Relation.VIEWER, "user:bob@example.com") == collaboration_grant(
        collab("viewer uploader")
    )
    assert Grant(Relation.VIEWER, "group:77") == collaboration_grant(collab("viewer", kind="group"))
    assert collaboration_grant(collab("uploader")) is None
    assert collaboration_grant(collab("editor", status="pending")) is None


def test_item_grants_hold_the_owner_and_the_effective_shared_link_access():
    """The owner is `owner`; the link's effective access (company) wins over the requested one
    (open) and reaches the owner's domain; an open link is anyone."""
    grants = set(item_grants(FILE))
    assert Grant(Relation.OWNER, "user:ceo@example.com") in grants
    assert Grant(Relation.VIEWER, "domain:example.com") in grants
    assert Grant(Relation.VIEWER, ANYONE) not in grants
    opened: JSONObject = {**FILE, "shared_link": {"access": "open"}}
    assert Grant(Relation.VIEWER, ANYONE) in item_grants(opened)

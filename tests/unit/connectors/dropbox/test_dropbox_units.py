"""The Dropbox connector's pure parts: its configuration, its error mapping, its records, and
the path index that turns id-less deleted entries into ids."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from syncline.connectors.dropbox.config import DropboxConfig
from syncline.connectors.dropbox.errors import raise_for_dropbox
from syncline.connectors.dropbox.normalize import normalize_entry
from syncline.connectors.dropbox.paths import PathIndex
from syncline.connectors.dropbox.permissions import member_grants
from syncline.domain.permissions import Grant, Relation
from syncline.errors import (
    CursorInvalid,
    UpstreamAuthError,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)
from syncline.pipelines import validate_record
from syncline.types import JSONObject


def test_folder_id_is_an_id_or_a_path_and_root_means_everything():
    """`folderId` takes `id:...` or an absolute path (trailing slash dropped); "" and "/" are
    the whole Dropbox; a relative path, unknown keys and two scopes at once are refused."""
    assert "id:abc_1-X" == DropboxConfig.model_validate({"folderId": "id:abc_1-X"}).folder_id
    assert "/A/b" == DropboxConfig.model_validate({"folderId": "/A/b/"}).folder_id
    assert DropboxConfig.model_validate({"folderId": "/"}).folder_id is None
    bads: list[dict[str, object]] = [
        {"folderId": "A/b"},
        {"folder": "/A"},
        {"folderId": "/A", "fileIds": ["id:x1"]},
        {"fileIds": []},
        {"fileIds": ["/a.txt"]},
    ]
    for bad in bads:
        with pytest.raises(ValidationError):
            DropboxConfig.model_validate(bad)
    assert DropboxConfig.model_validate({"orgWideSync": True}).org_wide_sync


def _response(status: int, body: object = None, text: str = "", **headers: str) -> httpx.Response:
    if body is not None:
        return httpx.Response(status, json=body, headers=headers)
    return httpx.Response(status, text=text, headers=headers)


def test_dropbox_errors_map_onto_syncline_exceptions():
    """409 `reset` is a rejected cursor, 409 `path/not_found` a missing item, 429 waits its
    `Retry-After` (or the body's `retry_after` when the header is absent), 401 an auth error,
    a plain-text 400 a response error, 5xx unavailable."""
    with pytest.raises(CursorInvalid):
        raise_for_dropbox(_response(409, {"error_summary": "reset/..", "error": {".tag": "reset"}}))
    with pytest.raises(UpstreamNotFound):
        raise_for_dropbox(
            _response(
                409,
                {
                    "error_summary": "path/not_found/..",
                    "error": {".tag": "path", "path": {".tag": "not_found"}},
                },
            )
        )
    with pytest.raises(UpstreamRateLimited) as limited:
        raise_for_dropbox(_response(429, text="too many", **{"Retry-After": "7"}))
    assert timedelta(seconds=7) == limited.value.retry_after
    with pytest.raises(UpstreamRateLimited) as limited:
        raise_for_dropbox(
            _response(
                429,
                {
                    "error_summary": "too_many_requests/..",
                    "error": {"reason": {".tag": "too_many_requests"}, "retry_after": 3},
                },
            )
        )
    assert timedelta(seconds=3) == limited.value.retry_after
    with pytest.raises(UpstreamAuthError):
        raise_for_dropbox(_response(401, {"error": {".tag": "expired_access_token"}}))
    with pytest.raises(UpstreamResponseError):
        raise_for_dropbox(_response(400, text='Error in call to API function "files/x"'))
    with pytest.raises(UpstreamUnavailable):
        raise_for_dropbox(_response(503, text="busy"))


def test_an_entry_is_a_valid_file_record_with_its_content_hash():
    """A file entry becomes a File record: `content_hash` in `hash`, `server_modified` as
    `updatedAt`, the resolved parent id, Paper as Markdown, the rest in `customFields`."""
    entry: JSONObject = {
        ".tag": "file",
        "name": "Plan.paper",
        "id": "id:f1",
        "path_lower": "/a/plan.paper",
        "path_display": "/A/Plan.paper",
        "client_modified": "2024-05-02T10:11:12Z",
        "server_modified": "2024-05-02T10:11:13Z",
        "rev": "a1c10ce0dd78",
        "size": 12,
        "is_downloadable": False,
        "content_hash": "e3b0",
        "sharing_info": {"read_only": False, "parent_shared_folder_id": "84528192421"},
    }
    upsert = normalize_entry(entry, "id:folder")
    validate_record("files", upsert.data)
    assert {"type": "DROPBOX_CONTENT_HASH", "value": "e3b0"} == upsert.data["hash"]
    assert "text/markdown" == upsert.data["mimeType"]
    assert "2024-05-02T10:11:13.000Z" == upsert.data["updatedAt"]
    assert ("id:folder",) == upsert.parent_ids
    custom = upsert.data["customFields"]
    assert isinstance(custom, dict)
    assert "/a/plan.paper" == custom["pathLower"]
    assert "2024-05-02T10:11:12.000Z" == custom["clientModified"]
    assert "markdown" == custom["exportedAs"]


def test_members_become_grants_and_invitees_nothing():
    """Users by email, groups by id; `viewer_no_comment` is a viewer, `traverse` nothing,
    invitees nothing."""
    body: JSONObject = {
        "users": [
            {"access_type": {".tag": "owner"}, "user": {"email": "Bob@Example.com"}},
            {"access_type": {".tag": "traverse"}, "user": {"email": "t@example.com"}},
        ],
        "groups": [{"access_type": {".tag": "viewer_no_comment"}, "group": {"group_id": "g:1"}}],
        "invitees": [{"access_type": {".tag": "viewer"}, "invitee": {"email": "x@example.org"}}],
    }
    assert [
        Grant(Relation.OWNER, "user:bob@example.com"),
        Grant(Relation.VIEWER, "group:g:1"),
    ] == member_grants(body)


def test_a_group_the_connected_user_is_in_grants_them_its_access():
    """A group entry that says the caller is a member (`is_member`) grants the connected user
    the group's access beside the group itself; one that says not, only the group."""
    body: JSONObject = {
        "groups": [
            {"access_type": {".tag": "editor"}, "group": {"group_id": "g:1", "is_member": True}},
            {"access_type": {".tag": "viewer"}, "group": {"group_id": "g:2", "is_member": False}},
        ]
    }
    assert [
        Grant(Relation.EDITOR, "group:g:1"),
        Grant(Relation.EDITOR, "user:me@example.com"),
        Grant(Relation.VIEWER, "group:g:2"),
    ] == member_grants(body, "me@example.com")
    assert [Grant(Relation.EDITOR, "group:g:1"), Grant(Relation.VIEWER, "group:g:2")] == (
        member_grants(body)
    )


def test_the_path_index_follows_moves_and_resolves_deleted_subtrees():
    """A folder moving takes its subtree; a deleted path takes the id there and everything
    below it; a file put where a folder was displaces the folder and its children."""
    index = PathIndex(complete=True)
    index.put("/a", "id:a", True)
    index.put("/a/b", "id:b", True)
    index.put("/a/b/c.txt", "id:c", False)
    index.put("/x", "id:x", True)
    index.put("/x/b", "id:b", True)  # moved
    assert "id:c" == index.id_at("/x/b/c.txt")
    assert index.id_at("/a/b/c.txt") is None
    top, below = index.remove("/x")
    assert ("id:x", True) == top
    assert {"id:b", "id:c"} == set(below)
    assert index.remove("/nothing") == (None, [])
    index.put("/a/d", "id:d", True)
    index.put("/a/d/e", "id:e", False)
    assert {"id:d", "id:e"} == set(index.put("/a/d", "id:f", False))


class _NaivePaths:
    """The path index's rules written the slow, obvious way (every lookup scans every path)."""

    def __init__(self) -> None:
        self.paths: dict[str, tuple[str, bool]] = {}

    def _under(self, path: str) -> list[str]:
        return [p for p in self.paths if p.startswith(path + "/")]

    def put(self, path: str, item_id: str, is_folder: bool) -> set[str]:
        old = next((p for p, (i, _) in self.paths.items() if i == item_id), None)
        displaced: set[str] = set()
        if old is not None and old != path:
            self.paths.pop(old)
            if is_folder:
                for child in self._under(old):
                    self.paths[path + child[len(old) :]] = self.paths.pop(child)
        there = self.paths.get(path)
        if there is not None and there[0] != item_id:
            displaced.add(there[0])
        if not is_folder:
            for child in self._under(path):
                displaced.add(self.paths.pop(child)[0])
        self.paths[path] = (item_id, is_folder)
        return displaced

    def remove(self, path: str) -> tuple[tuple[str, bool] | None, set[str]]:
        top = self.paths.pop(path, None)
        return top, {self.paths.pop(c)[0] for c in self._under(path)}


_SEGMENTS = st.sampled_from(["a", "b", "c"])
_PATHS = st.lists(_SEGMENTS, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("put"), _PATHS, st.sampled_from(["id:1", "id:2", "id:3", "id:4"]), st.booleans()
        ),
        st.tuples(st.just("remove"), _PATHS),
    ),
    max_size=40,
)


@given(ops=_OPS)
def test_the_path_index_keeps_the_rules_of_the_obvious_implementation(ops):
    """Whatever sequence of entries the feed brings (files and folders put, moved, replaced,
    deleted with their subtrees), the index (which finds subtrees through its children map,
    not by scanning every path) holds the same paths and displaces and removes the same ids
    as an implementation that scans every path for every lookup."""
    index, naive = PathIndex(complete=True), _NaivePaths()
    for op in ops:
        if op[0] == "put":
            _, path, item_id, is_folder = op
            assert naive.put(path, item_id, is_folder) == set(index.put(path, item_id, is_folder))
        else:
            top, below = index.remove(op[1])
            assert naive.remove(op[1]) == (top, set(below))
        assert naive.paths == index.paths
        assert {i: p for p, (i, _) in naive.paths.items()} == index.ids

"""The Google Drive connector reads permissions from the sandbox Drive over real HTTP."""

from collections.abc import AsyncIterator

import httpx
import pytest

from syncline.connectors.base import ConnectorContext
from syncline.connectors.googledrive import spec
from syncline.domain.permissions import Access, Grant, Relation

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
GROUP_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.readonly"


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def connector(state, server, http, scopes=(DRIVE_SCOPE,), configuration=None):
    access, _ = state.issue_tokens("alice@example.com", scopes=scopes)
    ctx = ConnectorContext(http=http, auth=Bearer(access), api_url=server.url)
    return spec.build(spec.config_model.model_validate(configuration or {}), ctx)


async def listed(drive):
    return {item.external_id: item async for page in drive.list_all(None) for item in page.parsed()}


async def test_folder_share_reaches_the_child_through_its_parent(state, server, http):
    """The folder carries Bob's grant; its child carries only its own, and names the folder as
    parent, so the evaluator reaches Bob through it."""
    folder = state.add_folder("Team")
    child = state.add_file("plan.txt", parent=folder)
    state.share(folder, "bob@example.com", "writer")

    items = await listed(connector(state, server, http))

    alice = Grant(Relation.OWNER, "user:alice@example.com")
    bob = Grant(Relation.EDITOR, "user:bob@example.com")
    assert Access((bob, alice), None) == items[folder].access
    assert Access((alice,), None) == items[child].access
    assert (folder,) == items[child].parent_ids


async def test_shared_drive_item_with_a_direct_grant_is_read_through_permissions_list(
    state, server, http
):
    """In a shared drive, only the item with a non-member grant costs a permissions.list;
    members come from container_grants."""
    drive = state.add_shared_drive(
        "Eng", {"alice@example.com": "organizer", "bob@example.com": "reader"}
    )
    plain = state.add_file("plain.txt", drive_id=drive)
    extra = state.add_file("extra.txt", drive_id=drive)
    state.share(extra, "carol@example.com", "commenter")
    reader = connector(state, server, http)

    items = await listed(reader)
    members = await reader.container_grants(drive)

    assert Access((), drive) == items[plain].access
    assert Access((Grant(Relation.VIEWER, "user:carol@example.com"),), drive) == items[extra].access
    assert 1 == state.request_count(f"/drive/v3/files/{extra}/permissions")
    assert 0 == state.request_count(f"/drive/v3/files/{plain}/permissions")
    assert [
        Grant(Relation.OWNER, "user:alice@example.com"),
        Grant(Relation.VIEWER, "user:bob@example.com"),
    ] == members


async def test_group_members_need_the_directory_scope(state, server, http):
    """With a Directory scope the group's members (nested groups as groups) come back; with
    Drive alone the group stays opaque (None)."""
    state.add_group("inner@example.com", ["carol@example.com"])
    state.add_group("eng@example.com", ["bob@example.com", "inner@example.com"])

    admin = connector(state, server, http, scopes=(DRIVE_SCOPE, GROUP_SCOPE))
    plain = connector(state, server, http)

    assert ["user:bob@example.com", "group:inner@example.com"] == await admin.group_members(
        "eng@example.com"
    )
    assert await plain.group_members("eng@example.com") is None
    assert [] == await admin.group_members("nobody@example.com")


async def test_sharing_change_keeps_the_record_and_updates_access(state, server, http):
    """A share arrives as a change whose record data equals the listed one, with the new grant."""
    doc = state.add_file("doc.txt")
    reader = connector(state, server, http)
    cursor = await reader.start_cursor()
    before = (await listed(reader))[doc]
    state.share_with_anyone(doc)

    pages = [page async for page in reader.changes(cursor)]

    [after] = [u for page in pages for u in page.upserts if u.external_id == doc]
    assert before.data == after.data
    assert Grant(Relation.VIEWER, "user:*") in (after.access.grants if after.access else ())

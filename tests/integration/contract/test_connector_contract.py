"""The connector contract: what every connector does against its provider's sandbox over HTTP,
on SQLite and PostgreSQL. Each test runs once per connector in `UPSTREAMS` (and per database);
a connector joins the suite by adding its `Upstream` there, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from syncline.connectors.base import ChangeStrategy
from syncline.connectors.registry import builtin_registry
from syncline.domain.ids import record_id
from syncline.pipelines import validate_record
from tests.integration.contract.upstreams import (
    SEEDED,
    UPSTREAMS,
    BadConfig,
    ConfigCase,
    Tree,
    Upstream,
)


@pytest.fixture(params=UPSTREAMS, ids=lambda u: u.integration)
async def up(request: pytest.FixtureRequest, database_url: str):
    async with request.param().running(database_url) as running:
        await running.connect()
        yield running


async def _enable(up: Upstream, configuration: dict[str, Any], **body: Any) -> Any:
    return await up.h.api.post(
        "/api/syncs",
        headers=up.h.auth(),
        json={
            "integration": up.integration,
            "pipeline": "files",
            "configuration": configuration,
            **body,
        },
    )


async def _synced(up: Upstream, configuration: dict[str, Any] | None = None) -> str:
    """A sync of `configuration` (everything by default) whose initial run is done."""
    answer = await _enable(up, up.base() if configuration is None else configuration)
    assert 200 == answer.status_code, answer.text
    await up.h.settle()
    return str(answer.json()["id"])


async def _records(up: Upstream, sid: str) -> dict[str, dict[str, Any]]:
    records, _ = await up.h.pull(sid)
    ids = [r["externalId"] for r in records]
    assert len(ids) == len(set(ids)), "the feed holds one record per item"
    return {r["externalId"]: r for r in records}


async def _live(up: Upstream, sid: str) -> set[str]:
    return {k for k, r in (await _records(up, sid)).items() if not r.get("deleted")}


def _events(up: Upstream) -> list[tuple[str, str]]:
    return [
        (e["event"], e["data"]["recordId"])
        for e in up.h.receiver.events()
        if "recordId" in (e.get("data") or {})
    ]


async def _log(up: Upstream, sid: str) -> set[str]:
    answer = await up.h.api.get(f"/api/syncs/{sid}/events", headers=up.h.auth())
    return {e["syncEvent"] for e in answer.json()["data"]}


async def _incremental(up: Upstream, sid: str) -> None:
    await up.h.trigger(sid)
    await up.h.settle()


def _named(tree: Tree, names: set[str] | frozenset[str]) -> set[str]:
    return {tree[name] for name in names}


async def test_the_initial_listing_holds_every_item_as_a_valid_record(up: Upstream):
    """Every seeded folder and file is one record of the `files` schema, with its parent
    folder, its content hash for files, and one `sync_complete`."""
    tree = up.seed()
    sid = await _synced(up)
    records = await _records(up, sid)

    assert _named(tree, up.recorded(SEEDED)) <= set(records)
    for record in records.values():
        validate_record("files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")})
    assert tree["A"] == records[tree["a1"]]["parentFolderId"]
    assert records[tree["a1"]]["hash"] is not None
    assert "a1.txt" == records[tree["a1"]]["name"]
    assert 1 == len(up.h.receiver.events("sync_complete"))


async def test_the_change_feed_brings_creates_updates_renames_moves_and_deletes(up: Upstream):
    """Each change arrives with the next incremental sync as exactly one webhook (a trashing
    the sandbox hides from it, or a move the provider records nothing for, with the full
    sync), and the feed then shows the new name, parent and deletion."""
    tree = up.seed()
    sid = await _synced(up)
    new = up.create("c.txt", tree["A"], b"new")
    up.write(tree["a1"], b"alpha one, revised")
    up.rename(tree["a2"], "a2-renamed.md")
    up.move(tree["top"], tree["B"])
    up.delete(tree["b1"])
    await _incremental(up, sid)
    if not up.trash_in_changes or not up.moves_in_changes:
        await up.h.trigger(sid, "full")
        await up.h.settle()
    records = await _records(up, sid)

    moved = {name: up.now_at(tree[name]) for name in ("a2", "top")}
    expected = [
        ("record_created", record_id(sid, new)),
        ("record_updated", record_id(sid, tree["a1"])),
        ("record_deleted", record_id(sid, tree["b1"])),
    ]
    for name, now in moved.items():
        if now == tree[name]:
            expected.append(("record_updated", record_id(sid, now)))
        else:  # ids are paths (S3 keys): the renamed or moved item is new, the old one gone
            expected.append(("record_deleted", record_id(sid, tree[name])))
            expected.append(("record_created", record_id(sid, now)))
    assert sorted(expected) == sorted(_events(up))
    assert "a2-renamed.md" == records[moved["a2"]]["name"]
    assert tree["B"] == records[moved["top"]]["parentFolderId"]
    assert records[tree["b1"]]["deleted"] is True


async def _after_move(up: Upstream, sid: str) -> None:
    """The run that brings a move: the next incremental, or the full sync where the provider
    records nothing for a move (`Upstream.moves_in_changes`)."""
    await up.h.trigger(sid, "incremental" if up.moves_in_changes else "full")
    await up.h.settle()


async def test_a_folder_scope_follows_items_moving_out_and_folders_moving_in(up: Upstream):
    """With `folderId` (or its provider's equivalent), a file moved out of the tree is deleted
    from the sync, and a folder moved into it brings its contents."""
    tree = up.seed()
    sid = await _synced(up, up.folder_scope(tree["A"]))
    before = await _live(up, sid)
    up.move(tree["a1"], tree["B"])
    await _after_move(up, sid)
    up.move(tree["B"], tree["A"])
    await _after_move(up, sid)

    assert _named(tree, up.recorded({"A", "a1", "a2"})) == before
    after = {up.now_at(tree[name]) for name in up.recorded({"A", "a2", "B", "a1", "b1"})}
    assert after == await _live(up, sid)


async def test_a_silent_deletion_is_found_by_the_full_sync(up: Upstream):
    """An item that vanishes without a change entry is still in the feed after an incremental
    sync, and the full sync deletes it with one `record_deleted` (where every run lists
    everything, the incremental run already does)."""
    spec = builtin_registry().get(up.integration)
    assert spec is not None
    relists = spec.capabilities.changes is ChangeStrategy.RELIST
    tree = up.seed()
    sid = await _synced(up)
    up.silently_delete(tree["top"])
    await _incremental(up, sid)
    quiet = _events(up)
    await up.h.trigger(sid, "full")
    await up.h.settle()

    deleted = [("record_deleted", record_id(sid, tree["top"]))]
    assert (deleted if relists else []) == quiet
    assert deleted == _events(up)
    assert tree["top"] not in await _live(up, sid)


async def test_the_providers_rate_limits_are_waited_out(up: Upstream):
    """Throttling in the provider's own form (with Retry-After) is retried inside the run: the
    sync ends IDLE, the change arrives, and the event log says it was rate limited."""
    tree = up.seed()
    sid = await _synced(up)
    up.throttle()
    new = up.create("later.txt", tree["A"], b"x")
    await _incremental(up, sid)

    assert up.faults_fired() >= 2
    assert "IDLE" == (await up.h.status(sid))["status"]
    assert [("record_created", record_id(sid, new))] == _events(up)
    assert "SYNC_RUN_RATE_LIMITED" in await _log(up, sid)


async def test_an_expired_access_token_is_refreshed(up: Upstream):
    """When every access token expires, the run refreshes through the provider's token
    endpoint and goes on; twice in a row (a rotated refresh token is kept)."""
    spec = builtin_registry().get(up.integration)
    assert spec is not None
    if spec.auth == "keys":
        pytest.skip("a credential of keys has no access token to expire or refresh")
    tree = up.seed()
    sid = await _synced(up)
    before = up.token_requests()
    created = []
    for round_ in range(2):
        up.expire_tokens()
        created.append(up.create(f"after-{round_}.txt", tree["A"], b"x"))
        await _incremental(up, sid)

    assert up.token_requests() >= before + 2
    assert "IDLE" == (await up.h.status(sid))["status"]
    assert sorted(("record_created", record_id(sid, c)) for c in created) == sorted(_events(up))


async def test_content_downloads_as_the_files_bytes(up: Upstream):
    """`GET .../records/{id}/content` streams each file's bytes (a page's rendering, for
    providers of pages); a folder has no content, unless the provider's folders are pages."""
    tree = up.seed()
    sid = await _synced(up)

    for name in sorted(up.recorded(("a1", "top", "A"))):
        answer = await up.h.api.get(
            f"/api/syncs/{sid}/records/{record_id(sid, tree[name])}/content", headers=up.h.auth()
        )
        expected = up.content_of(name, tree)
        if expected is None:
            assert 422 == answer.status_code
        else:
            assert (200, expected) == (answer.status_code, answer.content)


async def test_a_rejected_change_cursor_resyncs_without_loss_or_duplicates(up: Upstream):
    """A change cursor the provider no longer honours leads to a full resync: what changed
    meanwhile arrives once, nothing is lost, and nothing is sent twice."""
    spec = builtin_registry().get(up.integration)
    assert spec is not None
    if spec.capabilities.changes is ChangeStrategy.WINDOW:
        pytest.skip("a modified-since window has no provider cursor to refuse")
    if spec.capabilities.changes is ChangeStrategy.RELIST:
        pytest.skip("a source listed anew on every run has no change cursor to refuse")
    tree = up.seed()
    sid = await _synced(up)
    added = up.create("during.txt", tree["B"], b"d")
    up.reject_cursor()
    await _incremental(up, sid)
    await _incremental(up, sid)

    assert [("record_created", record_id(sid, added))] == _events(up)
    assert _named(tree, set(SEEDED)) | {added} <= await _live(up, sid)
    assert "FULL_SYNC_COMPLETED" in await _log(up, sid)


_CONFIGS = [
    pytest.param(upstream, case, id=f"{upstream.integration}-{case.name}")
    for upstream in UPSTREAMS
    for case in upstream.configs
]
_BAD_CONFIGS = [
    pytest.param(upstream, case, id=f"{upstream.integration}-{case.name}")
    for upstream in UPSTREAMS
    for case in upstream.bad_configs
]


@pytest.mark.parametrize(("upstream", "case"), _CONFIGS)
async def test_every_configuration_key_shapes_the_sync(
    database_url: str, upstream: type[Upstream], case: ConfigCase
):
    """Each configuration key of the integration (API.md section 8) syncs what it says."""
    async with upstream().running(database_url) as up:
        await up.connect()
        tree = up.seed()
        sid = await _synced(up, case.configuration(up, tree))
        records = await _records(up, sid)

        assert _named(tree, case.holds) == set(records) & set(tree.values())
        case.check(records, tree)


@pytest.mark.parametrize(("upstream", "case"), _BAD_CONFIGS)
async def test_bad_configuration_is_a_422_naming_the_key(
    database_url: str, upstream: type[Upstream], case: BadConfig
):
    """A configuration the integration cannot take is refused with 422 naming the key, and
    no sync is created."""
    async with upstream().running(database_url) as up:
        await up.connect()
        tree = up.seed()
        answer = await _enable(up, case.configuration(up, tree))
        listed = (await up.h.api.get("/api/syncs", headers=up.h.auth())).json()["data"]

        assert 422 == answer.status_code, answer.text
        assert answer.json()["field"].startswith(case.field), answer.text
        assert [] == listed

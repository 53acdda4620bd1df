"""How soon a user removed from a Google Group loses access: within
SYNCLINE_GROUP_MEMBERSHIP_MAX_AGE always, and at the next incremental sync when the credential
may read the Admin Reports API's groups activities."""

from __future__ import annotations

from typing import Any

from syncline.domain.ids import record_id
from syncline.sandbox.googledrive.auth import DRIVE_SCOPE, REPORTS_SCOPE
from tests.support.harness import Harness, harness

DIRECTORY = "https://www.googleapis.com/auth/admin.directory.group.readonly"
GROUP = "eng@example.com"


async def _shared_through_a_group(h: Harness, *scopes: str) -> tuple[str, str]:
    """A file shared with a group that holds bob; returns (sync id, record id)."""
    h.drive.add_group(GROUP, ["bob@example.com", "carol@example.com"])
    spec = h.drive.add_file("spec.txt")
    h.drive.share(spec, GROUP, "reader", type="group")
    await h.connect(scopes=(DRIVE_SCOPE, DIRECTORY, *scopes))
    sync = await h.enable()
    await h.settle()
    return str(sync["id"]), record_id(str(sync["id"]), spec)


async def _bob_reads(h: Harness, sid: str, rid: str) -> bool:
    body = {"object": rid, "user": "bob@example.com", "role": "can_read"}
    answer = await h.api.post(f"/api/permissions/{sid}/check", headers=h.auth(), json=body)
    assert 200 == answer.status_code, answer.text
    return bool(answer.json()["hasAccess"])


async def _permission_log(h: Harness, sid: str) -> list[dict[str, Any]]:
    entries = (await h.api.get(f"/api/syncs/{sid}/events", headers=h.auth())).json()["data"]
    return [e for e in entries if e["syncType"] == "PERMISSION"]


async def _incremental(h: Harness, sid: str) -> None:
    await h.trigger(sid)
    await h.settle()


async def test_a_removed_member_loses_access_within_the_max_age(database_url, tmp_path):
    """Without the Reports scope, bob keeps access until his group's membership is older than
    SYNCLINE_GROUP_MEMBERSHIP_MAX_AGE (here 10 minutes), then loses it with the next run."""
    async with harness(database_url, tmp_path, group_membership_max_age="10m") as h:
        sid, rid = await _shared_through_a_group(h)
        before = await _bob_reads(h, sid, rid)
        h.drive.set_group_members(GROUP, ["carol@example.com"])
        h.clock.advance(minutes=5)
        await _incremental(h, sid)
        within = await _bob_reads(h, sid, rid)
        h.clock.advance(minutes=6)
        await _incremental(h, sid)
        after = await _bob_reads(h, sid, rid)

    assert (True, True, False) == (before, within, after)


async def test_a_max_age_of_zero_rereads_groups_on_every_incremental(database_url, tmp_path):
    """SYNCLINE_GROUP_MEMBERSHIP_MAX_AGE=0: the next incremental sync reads the group again."""
    async with harness(database_url, tmp_path, group_membership_max_age="0") as h:
        sid, rid = await _shared_through_a_group(h)
        h.drive.set_group_members(GROUP, ["carol@example.com"])
        await _incremental(h, sid)

        assert not await _bob_reads(h, sid, rid)


async def test_the_reports_feed_removes_access_at_the_next_incremental(database_url, tmp_path):
    """With admin.reports.audit.readonly, the groups activity feed reports the removal and the
    next incremental re-reads that group at once, well within the max age; the permission log
    entry counts the groups the feed reported."""
    async with harness(database_url, tmp_path, group_membership_max_age="1h") as h:
        sid, rid = await _shared_through_a_group(h, REPORTS_SCOPE)
        quiet = await _permission_log(h, sid)
        h.drive.set_group_members(GROUP, ["carol@example.com"])
        await _incremental(h, sid)
        after = await _bob_reads(h, sid, rid)
        log = await _permission_log(h, sid)

    assert not after
    assert 1 == log[0]["summary"]["groupsReportedChanged"]
    assert len(log) == len(quiet) + 1


async def test_without_the_reports_scope_the_feed_is_not_asked_again(database_url, tmp_path):
    """A credential without the Reports scope gets 403 once, on the listing; incremental syncs
    then leave the feed alone, and nothing fails."""
    async with harness(database_url, tmp_path) as h:
        sid, _ = await _shared_through_a_group(h)
        asked = h.drive.request_count("/admin/reports")
        for _ in range(3):
            await _incremental(h, sid)
        status = (await h.status(sid))["status"]

    assert 1 == asked
    assert 1 == h.drive.request_count("/admin/reports")
    assert "IDLE" == status

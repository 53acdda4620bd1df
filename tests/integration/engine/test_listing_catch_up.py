"""A listing is followed at once by an incremental run, which applies what changed meanwhile."""

from __future__ import annotations

import pytest

from tests.support.harness import DRIVE_USER, harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


async def test_a_rename_during_the_initial_listing_is_in_the_feed_once_it_settles(h, monkeypatch):
    """A file is renamed just after the initial listing read it: the change token taken before
    the listing holds the rename, and the incremental that follows the listing at once (not a
    frequency later; the clock does not move) puts the new name in the feed."""
    fid = h.drive.add_file("before.txt", owner=DRIVE_USER)
    end = h.drive.traffic.end
    renamed: list[str] = []

    def rename_after_the_first_listing(number: int | None = None) -> None:
        end(number)
        listed = any(path == "/drive/v3/files" for _, path, _ in h.drive.requests)
        if listed and not renamed:
            renamed.append(fid)
            h.drive.update_file(fid, name="after.txt")

    monkeypatch.setattr(h.drive.traffic, "end", rename_after_the_first_listing)
    await h.connect()
    sync = await h.enable()
    await h.settle()
    records, _ = await h.pull(sync["id"])

    assert [fid] == renamed
    assert "after.txt" == next(r["name"] for r in records if r["externalId"] == fid)
    assert "IDLE" == (await h.status(sync["id"]))["status"]

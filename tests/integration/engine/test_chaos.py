"""Convergence under steady upstream faults and a long webhook outage (the chaos scenario).

The scenario lives in `tests.support.chaos`, shared with `python -m bench.faults`.
"""

from __future__ import annotations

import pytest

from syncline.sandbox import CHAOS_FAULTS
from tests.support.chaos import ChaosConfig, ChaosReport, chaos_harness, run_chaos
from tests.support.harness import harness

# Assertions below read one run of the scenario; run it once per database.
_REPORTS: dict[str, ChaosReport] = {}


@pytest.fixture
async def report(database_url: str) -> ChaosReport:
    key = database_url.split(":", 1)[0]
    if key not in _REPORTS:
        async with chaos_harness(database_url) as ch:
            _REPORTS[key] = await run_chaos(ch, ChaosConfig(syncs=12, rate=0.15, seed=7))
    return _REPORTS[key]


async def test_every_sync_converges_to_the_upstream_truth(report):
    """With 15% of Drive requests failing in every way Drive fails, each sync's records end
    equal to what the sandbox lists to its user: none lost, none extra, none stale, none
    twice; every sync IDLE; only the sync that met a 403 insufficientFilePermissions ERRORED."""
    assert [] == report.problems, "\n".join(report.lines())
    assert (0, 0, 0, 0) == (report.lost, report.extra, report.stale, report.duplicated)
    assert ([], []) == (report.errored, report.not_idle)
    assert report.deliberate_error is not None
    assert report.records > 100


async def test_faults_of_every_kind_were_served(report):
    """The run really was hostile: nearly every kind of fault fired (the rarest, on listings
    only, may miss a run; each has its own sandbox test), at about the set rate."""
    kinds = set(CHAOS_FAULTS) & set(report.faults)
    assert len(kinds) >= 10, report.faults
    assert {"stale_list_token", "incomplete", "truncated"} & kinds, report.faults
    assert 0.08 * report.requests < sum(report.faults.values()) < 0.25 * report.requests


async def test_deletions_match_true_removals_one_for_one(report):
    """Every record_deleted answers one item removed upstream (trash, delete, unshare, moved
    out of a synced folder): never a wrong or mass deletion."""
    assert report.removals > 0
    assert report.removals == report.deletions
    assert (0, 0) == (report.wrong_deletions, report.mass_deletes)


async def test_the_event_log_says_what_happened(report):
    """Retries and rate limits are logged with the HTTP status Drive answered, and listings
    Drive reported incomplete are logged as warnings."""
    assert report.retries_logged > 0
    assert report.rate_limits_logged > 0
    assert report.incomplete_warnings > 0
    assert {429, 403} & set(report.logged_statuses)
    assert {500, 502, 503} & set(report.logged_statuses)


async def test_a_long_webhook_outage_loses_nothing_and_keeps_order(report):
    """Hours of 503s then refused connections, while syncs produce events: once the endpoint
    is back it gets every event (deduplicated by id), in order per sync."""
    assert report.webhook_failures_logged > 0
    assert report.events > 0
    assert (0, 0) == (report.undelivered, report.out_of_order)


async def test_the_api_never_answered_500(report):
    """No Syncline API call made during the chaos answered a 5xx."""
    assert 0 == report.server_errors


# -- the bugs the chaos found, one by one ----------------------------------------------------


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


async def _warnings(h, sync_id):
    response = await h.api.get(f"/api/syncs/{sync_id}/events", headers=h.auth())
    return [
        e["error"]["message"]
        for e in response.json()["data"]
        if e["syncEvent"] == "SYNC_RUN_WARNING"
    ]


async def test_a_401_on_a_freshly_refreshed_token_is_retried(h):
    """A 401 that meets the token just refreshed after another 401 is retried, not taken for
    a dead credential: the sync stays healthy and picks up the change."""
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    h.drive.add_file("b.txt", content=b"x")
    h.drive.inject("401", times=2, path="/drive/v3/changes")
    await h.trigger(sync["id"])
    await h.settle()

    status = await h.status(sync["id"])
    assert ("IDLE", 2) == (status["status"], status["summary"]["totalActiveRecords"])
    assert 2 == h.drive.request_count("/token")  # each 401 killed the token it met


async def test_a_folder_unshared_takes_its_items_along_and_a_shared_one_brings_them(h):
    """The feed shows a folder shared with or unshared from the user, not what is inside; a
    sync of everything reconciles both with a full listing."""
    owner = "bob@example.com"
    gone = h.drive.add_folder("Leaving", owner=owner)
    for i in range(2):
        h.drive.add_file(f"out-{i}.txt", parent=gone, owner=owner)
    h.drive.share(gone, "alice@example.com")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    held = (await h.status(sync["id"]))["summary"]["totalActiveRecords"]
    arriving = h.drive.add_folder("Arriving", owner=owner)
    for i in range(3):
        h.drive.add_file(f"in-{i}.txt", parent=arriving, owner=owner)
    h.drive.unshare(gone, "alice@example.com")
    h.drive.share(arriving, "alice@example.com")
    await h.trigger(sync["id"])
    await h.settle()

    records, _ = await h.pull(sync["id"], page_size=1000)
    active = sorted(r["name"] for r in records if not r.get("deleted"))
    assert 3 == held
    assert ["Arriving", "in-0.txt", "in-1.txt", "in-2.txt"] == active


async def test_an_incomplete_initial_listing_is_followed_by_a_full_sync_soon(h):
    """When Drive says the first listing was incomplete (shared drives not searched), the sync
    warns and lists again within the retry delay, not a day later."""
    h.drive.add_file("mine.txt")
    team = h.drive.add_shared_drive("Team")
    h.drive.add_file("shared.txt", drive_id=team)
    await h.connect()
    h.drive.inject("incomplete")
    sync = await h.enable()
    await h.settle()
    first, _ = await h.pull(sync["id"])
    h.clock.advance(minutes=16)
    await h.settle()
    later, _ = await h.pull(sync["id"])

    assert ["mine.txt"] == [r["name"] for r in first]
    assert ["mine.txt", "shared.txt"] == sorted(r["name"] for r in later if not r.get("deleted"))
    assert any("incomplete" in w for w in await _warnings(h, sync["id"]))

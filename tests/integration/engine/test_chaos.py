"""Convergence under steady upstream faults and a long webhook outage (the chaos scenario).

The scenario lives in `tests.support.chaos`, shared with `python -m bench.faults`.
"""

from __future__ import annotations

import pytest

from tests.support.chaos import ChaosConfig, ChaosReport, chaos_harness, run_chaos

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
    """The run really was hostile: every transient fault kind fired, at about the set rate."""
    expected = {
        "429",
        "403_rate",
        "403_rate_project",
        "500",
        "502",
        "503",
        "timeout",
        "drop",
        "401",
        "stale_list_token",
        "stale_change_token",
        "incomplete",
        "truncated",
    }
    assert expected <= set(report.faults), report.faults
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

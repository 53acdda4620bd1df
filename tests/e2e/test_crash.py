"""The crash scenario of `python -m bench.crash`, smaller: real `syncline api` and `syncline worker`
processes on a real PostgreSQL, workers SIGKILLed mid-run, PostgreSQL restarted.

PostgreSQL is a private throwaway cluster (initdb in a temporary directory, its own port), so
restarting it disturbs no other test on the machine's server; `SYNCLINE_TEST_POSTGRES_URL` only
says that PostgreSQL tests are wanted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench._crash import KINDS, CrashConfig, run_scenario
from bench._crash_pg import Cluster, pg_bindir, private_cluster

from tests.support.processes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not os.environ.get("SYNCLINE_TEST_POSTGRES_URL"):
        pytest.skip("SYNCLINE_TEST_POSTGRES_URL is not set")
    if pg_bindir() is None:
        pytest.skip("initdb is not installed: no private PostgreSQL cluster to restart")
    with private_cluster(free_port()) as cluster:
        yield cluster


@pytest.mark.timeout(420)
def test_killed_workers_and_a_postgres_restart_lose_repeat_and_double_nothing(
    cluster: Cluster, tmp_path: Path
):
    """40 syncs on 3 workers and 2 API processes, while files change upstream and incremental
    and full syncs are triggered: workers are killed during an initial, an incremental and a
    full run and restarted, and PostgreSQL restarts once. Afterwards every sync is IDLE; every
    upstream file is in its sync's feed exactly once, with its latest name, both in a full read
    and in the replica a client built by following the cursor; every record event in the
    outbox reached the webhook receiver, and every change produced one; no two runs of one
    sync ever talked to the upstream at the same time; no client got a 500."""
    config = CrashConfig(
        postgres_url=cluster.admin_url,
        restart_postgres_command=cluster.restart_command,
        syncs=40,
        kills=4,
        chaos_seconds=30,
        settle_seconds=120,
        big_share=0.1,
        big_files=(1200, 2500),
        logs=tmp_path / "logs",
    )

    report = run_scenario(config, progress=lambda _: None)

    details = report.table() + "".join(f"\nnote: {note}" for note in report.notes)
    assert all(report.kills[kind] >= 1 for kind in KINDS), details
    assert 1 == report.postgres_restarts
    assert {} == report.failed, details

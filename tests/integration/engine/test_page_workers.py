"""Listing pages parsed and prepared in a worker process (`SYNCLINE_PARSE_PROCESSES`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import text

from syncline.domain.permissions import Access, Grant, Relation
from syncline.domain.records import ListPage, Unparsed, Upsert
from syncline.engine.offload import PageWorkers
from syncline.sandbox.googledrive.state import DriveState
from tests.support.harness import Harness, harness

SYNC = "6f1b7a52-3c1e-5e0a-9d43-2a1c5b7e9f10"


def _drive() -> DriveState:
    """Three listing pages of My Drive items (parsed by a worker) and a shared drive, whose
    pages the connector parses itself (its items may need `permissions.list`)."""
    drive = DriveState()
    folder = drive.add_folder("Reports")
    for i in range(2300):
        fid = drive.add_file(f"f{i:04d}.txt", parent=folder if i % 2 else None)
        if i % 100 == 0:
            drive.share(fid, "bob@example.com")
    shared = drive.add_shared_drive("Team", ["alice@example.com", "carol@example.com"])
    inside = drive.add_file("plan.txt", drive_id=shared, parent=shared)
    drive.share(inside, "dave@example.com")
    return drive


async def _synced(h: Harness) -> tuple[list[dict[str, Any]], set[tuple[Any, ...]]]:
    """The sync's records without their ids and times, and its tuples keyed by external id."""
    await h.connect()
    sync = await h.enable()
    await h.settle()
    records, _ = await h.pull(sync["id"], page_size=1000)
    by_rid = {r["id"]: r["externalId"] for r in records}
    async with h.runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT o.type, o.name, t.relation, s.type, s.name FROM permission_tuples t"
                " JOIN permission_keys o ON o.id = t.object"
                " JOIN permission_keys s ON s.id = t.subject WHERE o.sync_id = :sid"
            ),
            {"sid": sync["id"]},
        )
        # A folder key names a record id; My Drive's root is no record: its id is per sync.
        tuples = {
            (ot, by_rid.get(on, on), rel, st, by_rid.get(sn, "root" if st == "folder" else sn))
            for ot, on, rel, st, sn in rows
        }
    stripped = [{k: v for k, v in r.items() if k not in ("id", "syncedAt")} for r in records]
    return sorted(stripped, key=lambda r: str(r["externalId"])), tuples


async def test_worker_process_listing_equals_in_process_listing(database_url, tmp_path):
    """An initial sync whose pages a spawned worker process parses stores exactly the records
    and permission tuples of one parsed in the event loop's process."""
    drive = _drive()
    async with harness(database_url, tmp_path, drive=drive, parse_processes=1) as h:
        assert 1 == h.runtime.runner.workers.processes
        pooled = await _synced(h)
    async with harness(database_url, tmp_path, drive=drive, parse_processes=0) as h:
        inline = await _synced(h)

    assert 2302 == len(pooled[0])  # the folder, 2300 files, the shared drive's file
    assert inline[0] == pooled[0]
    assert inline[1] == pooled[1]
    assert any(t[4] == "bob@example.com" for t in pooled[1])


def parse_two(body: bytes) -> list[Upsert]:
    """A parser for these tests: one item per line of `body`, all granted to ann."""
    grant = Grant(Relation.VIEWER, "user:ann@example.com")
    return [
        Upsert(line, {"name": line}, access=Access((grant,), None))
        for line in body.decode().split()
    ]


async def test_page_with_items_and_unparsed_bytes_is_prepared_whole():
    """A page that gives items and unparsed bytes is prepared as one page, items first; an
    item repeated in the bytes keeps its place and takes the later version."""
    workers = PageWorkers(0)
    page = ListPage(
        items=[Upsert("a", {"name": "old"}), Upsert("z", {"name": "z"})],
        checkpoint=None,
        unparsed=Unparsed(parse_two, b"a b"),
    )

    prepared = await workers.prepare(SYNC, page)

    assert ["a", "z", "b"] == [item.external_id for item in prepared.items]
    assert '"name":"a"' == prepared.items[0].fields
    assert prepared.items[0].access_hash is not None
    assert prepared.items[1].access_hash is None


async def test_a_killed_worker_loses_no_page_and_repeated_deaths_fall_back_inline():
    """A worker killed mid-listing costs nothing: the page is prepared in-process and a fresh
    pool serves the next one; after three deaths in a row pages are prepared in-process."""
    workers = PageWorkers(1)
    page = ListPage(items=[], checkpoint=None, unparsed=Unparsed(parse_two, b"x y"))
    try:
        first = await workers.prepare(SYNC, page)
        for expected_processes in (1, 1, 0):
            pool = workers._pool
            assert pool is not None
            for pid in list(pool._processes):  # the pool's own record of its workers
                os.kill(pid, signal.SIGKILL)
            again = await workers.prepare(SYNC, page)
            assert first == again
            assert expected_processes == workers.processes
            if expected_processes:
                workers._executor()  # a fresh pool, to be killed in its turn
                await workers.prepare(SYNC, ListPage([], None))  # nothing to parse
                pool = workers._executor()
                pool.submit(int).result(timeout=60)  # its worker is up
    finally:
        workers.close()


@pytest.mark.parametrize("processes", [0, 1])
async def test_parser_errors_surface_where_the_page_is_committed(processes):
    """A parser that raises fails the page with its own error, from a worker or not."""
    workers = PageWorkers(processes)
    page = ListPage(items=[], checkpoint=None, unparsed=Unparsed(parse_two, b"\xff"))
    try:
        with pytest.raises(UnicodeDecodeError):
            await workers.prepare(SYNC, page)
    finally:
        workers.close()


_DYING_PARENT = """
import os
import subprocess
import sys
import time
from syncline.engine.offload import PageWorkers
if __name__ == "__main__":
    pool = PageWorkers(1)._executor()
    pool.submit(int).result()
    print(*pool._processes, flush=True)
    os._exit(0)  # killed, as far as its workers can tell: no shutdown
"""


def test_workers_end_when_their_parent_is_killed(tmp_path):
    """A worker whose `serve` process was killed ends by itself instead of lingering."""
    script = tmp_path / "parent.py"
    script.write_text(_DYING_PARENT)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=120
    )
    [worker] = [int(pid) for pid in out.stdout.split()]
    deadline = time.monotonic() + 30
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

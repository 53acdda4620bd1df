"""The table `bench.box_sync` and `bench.dropbox_sync` print: one provider's fetch-only ceiling,
Syncline's initial sync of it on SQLite and PostgreSQL (files/s, seconds, records, peak RSS),
its idle, 1% and full-after-1%-gone runs, and the ratios to the ceiling and to Syncline's
Google Drive initial sync of as many files, measured in the same run.

Every figure is the median of `--runs` runs; each Syncline run is a fresh process
(`bench._<provider>_run lifecycle`) against a fresh database and a freshly generated account
(the lifecycle changes it); each ceiling run a fresh process against its own fresh account.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.common import drive_server, fresh_database, median, run_json, syncline_run, table


class Served(Protocol):
    url: str
    access: str
    refresh: str
    info: dict[str, Any]


@dataclass(frozen=True)
class Provider:
    name: str
    """`box`, `dropbox`: also the `bench._<name>_run` and `bench._<name>_ceiling` modules."""
    server: Callable[[int], AbstractContextManager[Served]]
    ceiling_flag: str
    """The ceiling client's argument naming the server (`--box`, `--dropbox`)."""
    describe: Callable[[dict[str, Any]], str]
    """A line about the generated account, from the server's JSON line."""


def main(provider: Provider, doc: str) -> None:
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--no-drive", action="store_true", help="skip the Drive comparison")
    args = parser.parse_args()
    kinds = args.db.split(",")
    name = provider.name
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    rows = [
        [
            "what", "items/s", "initial s", "records", "idle incr. s", "1% incr. s",
            "full 1% gone s", "peak RSS MB", "vs ceiling", "vs drive",
        ]
    ]  # fmt: skip
    rates: dict[str, float] = {}
    records: dict[str, int] = {}
    notes: list[str] = []
    lines: dict[str, list[str]] = {}

    def initial(what: str, runs: list[dict[str, Any]]) -> list[str]:
        seconds = median([r["seconds"] for r in runs])
        count = runs[0]["records"]
        assert all(r["records"] == count for r in runs), (what, runs)
        rates[what], records[what] = count / seconds, count
        rss = f"{median([r['rss_mb'] for r in runs]):.0f}" if "rss_mb" in runs[0] else ""
        return [what, f"{count / seconds:,.0f}", f"{seconds:.2f}", f"{count:,}", "", "", "", rss]

    ceiling = f"{name} ceiling"
    runs = []
    expected = 0
    for _ in range(args.runs):
        with provider.server(args.files) as served:
            expected = served.info["files"] + served.info["folders"]
            if not notes:
                notes.append(f"{provider.describe(served.info)}; expected records {expected:,}")
            flags = (provider.ceiling_flag, served.url, "--access", served.access)
            runs.append(run_json(f"bench._{name}_ceiling", *flags))
    lines[ceiling] = initial(ceiling, runs)
    notes.append(f"{ceiling}: {runs[0]['requests']:,} requests")
    for kind in kinds:
        what = f"syncline {name} {kind}"
        runs = []
        for i in range(args.runs):
            with provider.server(args.files) as served:
                url = fresh_database(kind, tmp, f"{name}_sync_{i}")
                flags = ("--db", url, "--url", served.url, "--access", served.access)
                flags += ("--refresh", served.refresh)
                runs.append(run_json(f"bench._{name}_run", "lifecycle", *flags))
        row = initial(what, runs)
        row[4:7] = [
            f"{median([r['idle_incremental_s'] for r in runs]):.3f}",
            f"{median([r['changed_incremental_s'] for r in runs]):.3f}",
            f"{median([r['full_s'] for r in runs]):.2f}",
        ]
        lines[what] = row
        gone = runs[0]["records"] - runs[0]["active_after"]
        notes.append(
            f"{what}: 1% = {runs[0]['changed']:,} files changed, then as many vanished;"
            f" active after the full sync {runs[0]['active_after']:,} ({gone:,} gone)"
        )
    if not args.no_drive:
        with drive_server(args.files) as drive:
            runs = [
                run_json("bench._ceiling", "--drive", drive.url, "--access", drive.access)
                for _ in range(args.runs)
            ]
            lines["drive ceiling"] = initial("drive ceiling", runs)
            for kind in kinds:
                runs = []
                for i in range(args.runs):
                    url = fresh_database(kind, tmp, f"{name}_drive_{i}")
                    runs.append(syncline_run("initial", url, drive))
                lines[f"syncline drive {kind}"] = initial(f"syncline drive {kind}", runs)
    for what, row in lines.items():
        vs_ceiling = vs_drive = ""
        if what.startswith("syncline"):
            own = "drive ceiling" if " drive " in what else ceiling
            vs_ceiling = f"{rates[what] / rates[own]:.0%}"
            drive = f"syncline drive {what.rsplit(' ', 1)[1]}"
            if what.startswith(f"syncline {name} ") and drive in rates:
                vs_drive = f"{rates[what] / rates[drive]:.2f}x"
        rows.append([*row, vs_ceiling, vs_drive])

    print(f"{name}: initial sync and later runs of {args.files:,} files, median of {args.runs}\n")
    print(table(rows))
    print()
    for note in notes:
        print(note)
    print(
        "vs ceiling: items/s (files + folders) over the same provider's fetch-only ceiling;"
        " vs drive: over Syncline's Google Drive initial sync of as many files on the same"
        " database"
    )
    wrong = {
        what: count
        for what, count in records.items()
        if what.startswith((ceiling, f"syncline {name}")) and count != expected
    }
    for what, count in wrong.items():
        print(f"MISMATCH: {what} has {count:,} records, expected {expected:,}")
    if not wrong:
        print(f"every {name} row has the {expected:,} records expected (files + folders)")

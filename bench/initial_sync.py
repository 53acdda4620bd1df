"""Initial sync: Syncline against the fetch-only ceiling and dlt, on SQLite and PostgreSQL.

    python -m bench.initial_sync [--files 100000] [--runs 3] [--db sqlite,postgres] [--no-dlt]

Every figure is the median of `--runs` runs, each in a fresh process against a fresh database,
all against one sandbox Drive served over HTTP by another process; ratios compare figures of
this one run of the command, never figures of another machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import (
    cpu_seconds,
    dlt_load,
    drive_server,
    fresh_database,
    median,
    run_json,
    syncline_run,
    table,
)
from bench.dlt_env import dlt_python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--no-dlt", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    rows = [["what", "files/s", "seconds", "peak RSS MB", "records", "CPU s: main+workers+sandbox"]]
    rates: dict[str, float] = {}

    def record(name: str, runs: list[dict]) -> None:
        seconds = median([r["seconds"] for r in runs])
        rate = runs[0]["records"] / seconds
        rates[name] = rate
        rss = median([r["rss_mb"] for r in runs]) if "rss_mb" in runs[0] else float("nan")
        cpu = ""
        if "cpu_main_s" in runs[0]:
            parts = [median([r[k] for r in runs]) for k in ("cpu_main_s", "cpu_workers_s")]
            cpu = "+".join(f"{x:.1f}" for x in [*parts, median([r["cpu_sandbox_s"] for r in runs])])
        rows.append(
            [name, f"{rate:,.0f}", f"{seconds:.2f}", f"{rss:.0f}", str(runs[0]["records"]), cpu]
        )

    with drive_server(args.files) as drive:
        ceiling = [
            run_json("bench._ceiling", "--drive", drive.url, "--access", drive.access)
            for _ in range(args.runs)
        ]
        record("fetch-only ceiling", ceiling)
        for kind in args.db.split(","):
            runs = []
            for i in range(args.runs):
                url = fresh_database(kind, tmp, f"initial_{i}")
                sandbox = cpu_seconds(drive.pid)
                runs.append(syncline_run("initial", url, drive))
                runs[-1]["cpu_sandbox_s"] = cpu_seconds(drive.pid) - sandbox
            record(f"syncline {kind}", runs)
        if not args.no_dlt:
            python = dlt_python()
            for destination in ("sqlite", "duckdb"):
                runs = [
                    dlt_load(python, drive, destination, str(tmp / f"dlt_{destination}_{i}.db"))
                    for i in range(args.runs)
                ]
                record(f"dlt {destination}", runs)

    print(f"initial sync of {args.files:,} files, median of {args.runs} runs\n")
    print(table(rows))
    print()
    ceiling_rate = rates["fetch-only ceiling"]
    for kind in args.db.split(","):
        rate = rates[f"syncline {kind}"]
        line = f"syncline {kind}: {rate / ceiling_rate:.0%} of the fetch-only ceiling"
        if "dlt sqlite" in rates:
            line += f", {rate / rates['dlt sqlite']:.1f}x dlt sqlite"
            line += f", {rate / rates['dlt duckdb']:.1f}x dlt duckdb"
        print(line)


if __name__ == "__main__":
    main()

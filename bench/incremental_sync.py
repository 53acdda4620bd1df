"""Incremental and periodic full syncs on a large sync, against dlt merging the same changes.

    python -m bench.incremental_sync [--files 1000000] [--db sqlite,postgres] [--runs 3] [--no-dlt]

For each database: the initial sync, then an incremental with nothing changed upstream (its
time and SQL statement count show it costs O(1), not O(records)), an incremental after 1% of
the files changed, and a full sync after 1% vanished silently. dlt (its own virtualenv) loads
the same listing, then merges the same 1% of changed files read from the same changes feed.
Each run gets its own freshly generated Drive and database. The 1% incremental's webhooks go to
a receiver in another process: "webhooks s" is when the last of them arrived, from the trigger.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import (
    dlt_load,
    drive_server,
    fresh_database,
    median,
    syncline_run,
    table,
    upstream_process,
)
from bench.dlt_env import dlt_python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--no-dlt", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    rows = [
        [
            "what",
            "idle incr. s",
            "idle SQL",
            "1% incr. s",
            "1% SQL",
            "webhooks s",
            "full 1% gone s",
            "peak RSS MB",
        ]
    ]
    one_percent: dict[str, float] = {}
    for kind in args.db.split(","):
        runs = []
        for i in range(args.runs):
            with drive_server(args.files) as drive, upstream_process("bench.receiver") as hooks:
                url = fresh_database(kind, tmp, f"incr_{i}")
                runs.append(syncline_run("lifecycle", url, drive, "--receiver", hooks[0]["url"]))
            assert all(r["changed_webhooks"] == r["changed"] for r in runs), runs
        one_percent[f"syncline {kind}"] = median([r["changed_incremental_s"] for r in runs])
        rows.append(
            [
                f"syncline {kind}",
                f"{median([r['idle_incremental_s'] for r in runs]):.3f}",
                f"{median([r['idle_incremental_sql'] for r in runs]):.0f}",
                f"{one_percent[f'syncline {kind}']:.3f}",
                f"{median([r['changed_incremental_sql'] for r in runs]):.0f}",
                f"{median([r['changed_webhooks_s'] for r in runs]):.2f}",
                f"{median([r['full_s'] for r in runs]):.2f}",
                f"{median([r['rss_mb'] for r in runs]):.0f}",
            ]
        )
    if not args.no_dlt:
        python = dlt_python()
        for destination in ("sqlite", "duckdb"):
            runs = []
            for i in range(args.runs):
                with drive_server(args.files) as drive:
                    path = str(tmp / f"dlt_incr_{destination}_{i}.db")
                    changed = str(max(1, args.files // 100))
                    runs.append(
                        dlt_load(python, drive, destination, path, "--incremental", changed)
                    )
            one_percent[f"dlt {destination}"] = median([r["incremental_s"] for r in runs])
            rows.append(
                [
                    f"dlt {destination}",
                    "",
                    "",
                    f"{one_percent[f'dlt {destination}']:.3f}",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    print(
        f"{args.files:,} files; 1% = {max(1, args.files // 100):,} files; median of {args.runs}\n"
    )
    print(table(rows))
    print()
    for kind in args.db.split(","):
        ours = one_percent[f"syncline {kind}"]
        if "dlt duckdb" in one_percent:
            print(
                f"syncline {kind} 1% incremental: {one_percent['dlt duckdb'] / ours:.1f}x faster"
                f" than dlt duckdb, {one_percent['dlt sqlite'] / ours:.1f}x faster than dlt sqlite"
            )


if __name__ == "__main__":
    main()

"""How a sync's cost grows with its size: the initial sync, an idle incremental and a full sync
at 10,000, 100,000 and 1,000,000 files.

    python -m bench.growth [--sizes 10000,100000,1000000] [--db sqlite,postgres]

Each size gets its own freshly generated sandbox Drive and database, and one `bench._syncline_run
lifecycle` in a fresh process. The initial sync should grow linearly (its cost per file stays
about the same), the idle incremental should stay flat (the same handful of SQL statements at
every size), and peak memory should not follow the size.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import drive_server, fresh_database, syncline_run, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    rows = [
        [
            "db",
            "files",
            "initial s",
            "files/s",
            "µs per file",
            "idle incr. s",
            "idle SQL",
            "full s",
            "peak RSS MB",
        ]
    ]
    for files in (int(n) for n in args.sizes.split(",")):
        with drive_server(files) as drive:
            for kind in args.db.split(","):
                r = syncline_run("lifecycle", fresh_database(kind, tmp, f"growth_{files}"), drive)
                rows.append(
                    [
                        kind,
                        f"{files:,}",
                        f"{r['seconds']:.2f}",
                        f"{r['records'] / r['seconds']:,.0f}",
                        f"{r['seconds'] / r['records'] * 1e6:.0f}",
                        f"{r['idle_incremental_s']:.3f}",
                        str(r["idle_incremental_sql"]),
                        f"{r['full_s']:.2f}",
                        f"{max(r[k] for k in r if k.endswith('rss_mb')):.0f}",
                    ]
                )
                print(table(rows[-1:]), flush=True)  # progress: one line per size and database
    print()
    print(table(rows))


if __name__ == "__main__":
    main()

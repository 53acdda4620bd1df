"""Crash test: SIGKILL workers mid-run and restart PostgreSQL; then count what was lost.

    python -m bench.crash [--syncs 200] [--workers 3] [--apis 2] [--kills 9] [--seed 1]
        [--postgres-url URL] [--restart-postgres-command CMD] [--chaos-seconds 90]

Creates a scratch database on the server of `--postgres-url` (default: the machine's), runs
`syncline migrate`, starts the API and worker processes, the sandbox Drive and a webhook
receiver, enables one sync per user, and then, while the syncs run, changes upstream files,
triggers incremental and full syncs, kills workers during initial, incremental and full runs
(restarting each), and restarts PostgreSQL once (default: `pg_ctlcluster` on the newest
cluster under /etc/postgresql; run as root). See `bench/_crash.py` for what is counted. The exit
status is 1 when anything was lost, duplicated, undelivered, doubled, answered 500, or not IDLE.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from bench._crash import CrashConfig, run_scenario
from bench._crash_pg import DEFAULT_POSTGRES_URL, default_restart_command


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__)
    parser.add_argument("--syncs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--kills", type=int, default=9, help="worker SIGKILLs (at least 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--restart-postgres-command", default=None)
    parser.add_argument("--chaos-seconds", type=float, default=90.0)
    parser.add_argument("--settle-seconds", type=float, default=240.0)
    parser.add_argument("--keep-database", action="store_true", help="do not drop it after")
    parser.add_argument("--logs", type=Path, default=None, help="default: a new temporary dir")
    args = parser.parse_args()
    logs = args.logs or Path(tempfile.mkdtemp(prefix="syncline-crash-"))
    if args.kills < 3:
        parser.error("--kills must be at least 3: one per run kind")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = CrashConfig(
        postgres_url=args.postgres_url,
        restart_postgres_command=args.restart_postgres_command or default_restart_command(),
        syncs=args.syncs,
        workers=args.workers,
        apis=args.apis,
        kills=args.kills,
        seed=args.seed,
        chaos_seconds=args.chaos_seconds,
        settle_seconds=args.settle_seconds,
        logs=logs,
        keep_database=args.keep_database,
    )
    report = run_scenario(config, progress=lambda message: print(message, flush=True))
    print(report.table())
    for note in report.notes:
        print(f"note: {note}")
    print(report.summary())
    print(f"(process logs in {logs}/)")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fault test for reviewers: the chaos scenario of `tests/integration/engine/test_chaos.py`,
at a chosen size, rate and seed, with its counts.

    python -m bench.faults [--syncs N] [--rate R] [--seed S] [--rounds K]
                           [--database-url URL | --sqlite]

Many syncs on a sandbox Google Drive that fails a steady share of requests (429 with and
without Retry-After, 403 rate limits, 500/502/503, hangs, dropped connections, expired tokens,
stale page tokens, incomplete and truncated listings) while users create, edit, move, trash,
delete, share and unshare, and a webhook endpoint that is down for hours of (harness) time.
By default on a throwaway database of the machine's PostgreSQL
(postgresql://postgres@127.0.0.1:5432/postgres, or SYNCLINE_BENCH_POSTGRES_URL), dropped at
the end. Exits 1 when any sync lost, duplicated or wrongly deleted a record, ended ERRORED
without cause, or an event went undelivered or out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import structlog
from sqlalchemy.engine import make_url

from bench.common import PG_ADMIN
from tests.support.chaos import ChaosConfig, ChaosReport, chaos_harness, run_chaos


@contextmanager
def _throwaway_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty database on `admin_url`'s server; dropped afterwards."""
    name = f"syncline_faults_{uuid.uuid4().hex[:10]}"
    admin = make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _throwaway_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="syncline-faults-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'syncline.db'}"


async def _run(database_url: str, config: ChaosConfig) -> ChaosReport:
    async with chaos_harness(database_url) as ch:
        return await run_chaos(ch, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--syncs", type=int, default=12, help="syncs that must converge")
    parser.add_argument("--rate", type=float, default=0.15, help="share of requests failing")
    parser.add_argument("--seed", type=int, default=1, help="seeds faults and mutations")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of mutations and runs")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server to create a throwaway database on (default: the machine's), "
        "or a sqlite:/// URL to use as is",
    )
    where.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file")
    args = parser.parse_args(argv)
    if args.syncs < 1 or not 0 <= args.rate <= 1 or args.rounds < 1:
        parser.error("--syncs and --rounds must be positive, --rate within [0, 1]")

    # The runs log every retry; the report is what matters here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    logging.getLogger("uvicorn").setLevel(logging.ERROR)
    config = ChaosConfig(syncs=args.syncs, rate=args.rate, seed=args.seed, rounds=args.rounds)
    url = args.database_url or PG_ADMIN
    if args.sqlite:
        database = _throwaway_sqlite()
        label = "SQLite"
    elif url.startswith("sqlite"):
        database = _nothing_to_create(url)
        label = "SQLite"
    else:
        database = _throwaway_postgres(url)
        label = "PostgreSQL"
    print(
        f"chaos: {args.syncs} syncs, fault rate {args.rate}, seed {args.seed}, "
        f"{args.rounds} rounds, {label}",
        flush=True,
    )
    with database as database_url:
        report = asyncio.run(_run(database_url, config))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


@contextmanager
def _nothing_to_create(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())

"""Microsoft Graph (SharePoint) initial sync: Syncline against the Graph fetch-only ceilings, and
against Syncline's Google Drive initial sync of as many files, on SQLite and PostgreSQL.

    python -m bench.graph_initial_sync [--files 20000] [--runs 3] [--db sqlite,postgres]
                                       [--no-drive]

Every figure is the median of `--runs` runs, each in a fresh process against a fresh database.
The Graph runs read one sandbox SharePoint library served over HTTP by another process
(`bench.graph_server`, about one folder per 50 files, some items shared); the Drive runs read
the sandbox Drive of `bench.initial_sync` (one folder per 100 files). Two Graph ceilings:
`delta`, the whole drive as one paged feed, and `children + permissions`, the requests the
connector's initial listing makes (a `children` walk of every folder, and the `permissions`
of each shared item). Ratios compare figures of this one run of the command.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench.common import drive_server, fresh_database, median, run_json, syncline_run, table
from bench.graph_server import Graph, graph_server


def _graph_run(database_url: str, graph: Graph) -> dict[str, Any]:
    return run_json(
        "bench._graph_run", "--db", database_url, "--graph", graph.url, "--access", graph.access,
        "--refresh", graph.refresh, "--site", graph.site,
    )  # fmt: skip


def _graph_ceiling(graph: Graph, *walk: str) -> dict[str, Any]:
    return run_json(
        "bench._graph_ceiling", "--graph", graph.url, "--access", graph.access,
        "--drive", graph.drive, *walk,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--no-drive", action="store_true", help="skip the Drive comparison")
    args = parser.parse_args()
    kinds = args.db.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    rows = [["what", "items/s", "seconds", "peak RSS MB", "records"]]
    rates: dict[str, float] = {}
    records: dict[str, int] = {}
    notes: list[str] = []

    def record(name: str, runs: list[dict[str, Any]]) -> None:
        seconds = median([r["seconds"] for r in runs])
        count = runs[0]["records"]
        assert all(r["records"] == count for r in runs), (name, runs)
        rates[name], records[name] = count / seconds, count
        rss = f"{median([r['rss_mb'] for r in runs]):.0f}" if "rss_mb" in runs[0] else ""
        rows.append([name, f"{count / seconds:,.0f}", f"{seconds:.2f}", rss, f"{count:,}"])

    with graph_server(args.files) as graph:
        expected = graph.info["files"] + graph.info["folders"]
        notes.append(
            f"graph library: {graph.info['files']:,} files in {graph.info['folders']:,} folders,"
            f" {graph.info['shared']:,} items shared; expected records {expected:,}"
        )
        for name, walk in (
            ("graph ceiling: delta", ("--walk", "delta")),
            ("graph ceiling: children + permissions", ("--walk", "children", "--permissions")),
        ):
            runs = [_graph_ceiling(graph, *walk) for _ in range(args.runs)]
            record(name, runs)
            notes.append(f"{name}: {runs[0]['requests']:,} requests")
        for kind in kinds:
            runs = []
            for i in range(args.runs):
                runs.append(_graph_run(fresh_database(kind, tmp, f"graph_initial_{i}"), graph))
            record(f"syncline graph {kind}", runs)
    if not args.no_drive:
        with drive_server(args.files) as drive:
            runs = [
                run_json("bench._ceiling", "--drive", drive.url, "--access", drive.access)
                for _ in range(args.runs)
            ]
            record("drive ceiling", runs)
            for kind in kinds:
                runs = []
                for i in range(args.runs):
                    url = fresh_database(kind, tmp, f"drive_initial_{i}")
                    runs.append(syncline_run("initial", url, drive))
                record(f"syncline drive {kind}", runs)

    print(f"initial sync of {args.files:,} files, median of {args.runs} runs\n")
    print(table(rows))
    print()
    for note in notes:
        print(note)
    wrong = {
        name: count
        for name, count in records.items()
        if name.startswith(("graph", "syncline graph")) and count != expected
    }
    for name, count in wrong.items():
        print(f"MISMATCH: {name} has {count:,} records, expected {expected:,}")
    if not wrong:
        print(f"every graph row has the {expected:,} records expected (files + folders)")
    for kind in kinds:
        rate = rates[f"syncline graph {kind}"]
        line = (
            f"syncline graph {kind}: {rate / rates['graph ceiling: delta']:.0%} of the delta"
            f" ceiling, {rate / rates['graph ceiling: children + permissions']:.0%} of the"
            " children + permissions ceiling"
        )
        if not args.no_drive:
            line += f", {rate / rates[f'syncline drive {kind}']:.2f}x syncline drive {kind}"
            line += (
                f" per item (drive: {rates[f'syncline drive {kind}'] / rates['drive ceiling']:.0%}"
            )
            line += " of its ceiling)"
        print(line)


if __name__ == "__main__":
    main()

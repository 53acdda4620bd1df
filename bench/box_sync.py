"""Box: Syncline against the Box fetch-only ceiling and against Syncline's Google Drive initial
sync of as many files, on SQLite and PostgreSQL; with the later runs of the same sync.

    python -m bench.box_sync [--files 100000] [--runs 1] [--db sqlite,postgres] [--no-drive]

One table: the ceiling (`bench._box_ceiling`: the `folders/{id}/items` walk, the
`collaborations` of each item that has some and the `memberships` of the groups they name,
the requests the connector's initial listing makes), then for each database Syncline's initial
sync (files/s, seconds, records, peak RSS), an incremental with nothing changed, an incremental
after 1% of the files got a new version, and a full sync after 1% more were purged without an
event (`bench._box_run lifecycle`), with the ratios of its initial files/s to the ceiling and
to Syncline's Google Drive initial sync (`bench.drive_server`, `bench._syncline_run initial`)
on the same database. The account is `bench.box_server`'s: about one folder per 50 files,
three levels, 10% of the folders and 1% of the files shared with a user or a group.

No dlt comparison: dlt has no verified Box source available offline here (its verified
sources do not include Box, and none is installed in dlt's virtualenv), so there is nothing
equivalent to run against the same fake.
"""

from __future__ import annotations

from typing import Any

from bench._files_sync import Provider, main
from bench.box_server import box_server


def _describe(info: dict[str, Any]) -> str:
    return (
        f"box account: {info['files']:,} files in {info['folders']:,} folders,"
        f" {info['shared']:,} items with a collaboration (generated in {info['generate_s']:.2f} s)"
    )


PROVIDER = Provider("box", box_server, "--box", _describe)

if __name__ == "__main__":
    main(PROVIDER, __doc__ or "")

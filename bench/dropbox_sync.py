"""Dropbox: Syncline against the Dropbox fetch-only ceiling and against Syncline's Google Drive
initial sync of as many files, on SQLite and PostgreSQL; with the later runs of the same sync.

    python -m bench.dropbox_sync [--files 100000] [--runs 1] [--db sqlite,postgres] [--no-drive]

One table: the ceiling (`bench._dropbox_ceiling`: the recursive `files/list_folder` and its
`continue` pages, `sharing/list_file_members` of each file with explicit members and
`sharing/list_folder_members` of each shared folder, the requests the connector's initial
listing makes), then for each database Syncline's initial sync (files/s, seconds, records,
peak RSS), an incremental with nothing changed, an incremental after 1% of the files got a new
revision, and a full sync after 1% more vanished without a change-log entry
(`bench._dropbox_run lifecycle`), with the ratios of its initial files/s to the ceiling and to
Syncline's Google Drive initial sync (`bench.drive_server`, `bench._syncline_run initial`) on
the same database. The account is `bench.dropbox_server`'s: about one folder per 50 files,
three levels, every 10th top-level folder a shared folder, 1% of the files shared by
themselves.

No dlt comparison: dlt has no verified Dropbox source available offline here (its verified
sources do not include Dropbox, and none is installed in dlt's virtualenv; its filesystem
source reads Dropbox only through fsspec's `dropboxdrivefs`, which is not installed either),
so there is nothing equivalent to run against the same fake.

The fake sorts a listing's entries once, at its first page, and each page renders only its
own entries, so both the ceiling and Syncline grow linearly with N.
"""

from __future__ import annotations

from typing import Any

from bench._files_sync import Provider, main
from bench.dropbox_server import dropbox_server


def _describe(info: dict[str, Any]) -> str:
    return (
        f"dropbox account: {info['files']:,} files in {info['folders']:,} folders,"
        f" {info['shared_folders']:,} shared folders, {info['shared_files']:,} files with"
        f" explicit members (generated in {info['generate_s']:.2f} s)"
    )


PROVIDER = Provider("dropbox", dropbox_server, "--dropbox", _describe)

if __name__ == "__main__":
    main(PROVIDER, __doc__ or "")

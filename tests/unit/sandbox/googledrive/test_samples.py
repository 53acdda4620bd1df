"""Sample and bulk content for the fake Drive."""

import pytest

import syncline.sandbox
from syncline.sandbox import DriveFile, DriveState, generate, populate

FOLDER = "application/vnd.google-apps.folder"


def _file(state: DriveState, file_id: str) -> DriveFile:
    found = state.get(file_id)
    assert found is not None
    return found


def test_populate_builds_a_realistic_drive():
    """The demo drive has folders, native docs, PDFs, a shortcut, trash, a share and a shared
    drive."""
    state = DriveState()

    ids = populate(state)

    mimes = {_file(state, i).mime_type for i in ids.values() if state.get(i) is not None}
    assert {
        FOLDER,
        "application/vnd.google-apps.document",
        "application/vnd.google-apps.spreadsheet",
        "application/vnd.google-apps.presentation",
        "application/pdf",
        "text/plain",
        "application/vnd.google-apps.shortcut",
    } <= mimes
    assert _file(state, ids["Old draft.txt"]).trashed
    assert _file(state, ids["Bob's notes"]).has_grant("alice@example.com")
    assert ids["Engineering"] == _file(state, ids["Engineering/runbook.txt"]).drive_id


def test_generate_counts_and_layout():
    """generate creates the files and folders asked for, files spread over the folders."""
    state = DriveState()

    out = generate(state, 250, n_folders=9)

    assert (9, 250) == (len(out.folder_ids), len(out.file_ids))
    assert 250 + 9 == len(state.changes)
    parents = {_file(state, f).parent for f in out.file_ids}
    assert set(out.folder_ids) == parents
    top = [f for f in out.folder_ids if _file(state, f).parent == state.root_id()]
    assert 3 == len(top)


def test_generate_is_deterministic_per_seed():
    """The same seed yields the same ids; another seed different ones."""
    first = generate(DriveState(), 10, seed=7)
    again = generate(DriveState(), 10, seed=7)
    other = generate(DriveState(), 10, seed=8)

    assert first.file_ids == again.file_ids
    assert first.file_ids != other.file_ids
    assert {33} == {len(i) for i in first.file_ids}


def test_generate_into_a_shared_drive():
    """Generated content can live in a shared drive."""
    state = DriveState()
    drive = state.add_shared_drive("Bulk")

    out = generate(state, 20, n_folders=2, drive_id=drive)

    assert {drive} == {_file(state, f).drive_id for f in out.file_ids}


def test_generate_refuses_unknown_drive():
    """A missing shared drive is an error, not a silent My Drive load."""
    with pytest.raises(KeyError):
        generate(DriveState(), 1, drive_id="0Anope")


def test_public_names_are_sorted_and_importable():
    """`syncline.sandbox.__all__` is sorted (constants, classes, functions, as ruff sorts
    it) and every name exists."""
    names = syncline.sandbox.__all__

    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sorted(names, key=kind) == names
    assert [] == [n for n in names if not hasattr(syncline.sandbox, n)]

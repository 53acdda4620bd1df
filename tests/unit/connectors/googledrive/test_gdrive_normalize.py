"""Drive `files` resources become normalized File records."""

import pytest

from syncline.connectors.googledrive.normalize import normalize_file
from syncline.domain.records import Upsert, record_hash
from syncline.errors import UpstreamResponseError
from syncline.types import JSONObject

BINARY: JSONObject = {
    "kind": "drive#file",
    "id": "1PdfId",
    "name": "report.pdf",
    "mimeType": "application/pdf",
    "parents": ["0AFolderId"],
    "trashed": False,
    "modifiedTime": "2024-05-02T10:11:12.345Z",
    "createdTime": "2024-01-01T09:00:00.000Z",
    "size": "12345",
    "md5Checksum": "9e107d9d372bb6826bd81d3542a419d6",
    "webViewLink": "https://drive.google.com/file/d/1PdfId/view?usp=drivesdk",
    "thumbnailLink": "https://lh3.googleusercontent.com/drive-storage/abc=s220",
}

GOOGLE_DOC: JSONObject = {
    "id": "1AbCdEf",
    "name": "Q3 plan",
    "mimeType": "application/vnd.google-apps.document",
    "parents": ["0AFolderId"],
    "trashed": False,
    "modifiedTime": "2024-05-02T10:11:12.345Z",
    "createdTime": "2024-01-01T09:00:00.000Z",
    "webViewLink": "https://docs.google.com/document/d/1AbCdEf/edit",
}

SHARED_DRIVE_SHEET: JSONObject = {
    "id": "1Sheet",
    "name": "Budget",
    "mimeType": "application/vnd.google-apps.spreadsheet",
    "parents": ["0AShared"],
    "driveId": "0AShared",
    "modifiedTime": "2024-05-02T10:11:12.345Z",
    "createdTime": "2024-01-01T09:00:00.000Z",
    "webViewLink": "https://docs.google.com/spreadsheets/d/1Sheet/edit",
}

SHORTCUT: JSONObject = {
    "id": "1Shortcut",
    "name": "Q3 plan",
    "mimeType": "application/vnd.google-apps.shortcut",
    "parents": ["0AOther"],
    "modifiedTime": "2024-05-03T00:00:00.000Z",
    "createdTime": "2024-05-03T00:00:00.000Z",
    "webViewLink": "https://drive.google.com/file/d/1Shortcut/view",
    "shortcutDetails": {
        "targetId": "1AbCdEf",
        "targetMimeType": "application/vnd.google-apps.document",
    },
}

FOLDER: JSONObject = {
    "id": "1Folder",
    "name": "Reports",
    "mimeType": "application/vnd.google-apps.folder",
    "parents": ["0ARoot"],
    "modifiedTime": "2024-05-02T10:11:12.345Z",
    "createdTime": "2024-01-01T09:00:00.000Z",
    "webViewLink": "https://drive.google.com/drive/folders/1Folder",
}


def test_binary_file_maps_every_file_field():
    """A binary file gives the whole File schema (without `id`), size as an int, an MD5 hash."""
    expected = Upsert(
        external_id="1PdfId",
        data={
            "externalId": "1PdfId",
            "name": "report.pdf",
            "mimeType": "application/pdf",
            "size": 12345,
            "url": "https://drive.google.com/file/d/1PdfId/view?usp=drivesdk",
            "thumbnailUrl": "https://lh3.googleusercontent.com/drive-storage/abc=s220",
            "createdAt": "2024-01-01T09:00:00.000Z",
            "updatedAt": "2024-05-02T10:11:12.345Z",
            "hash": {"type": "MD5", "value": "9e107d9d372bb6826bd81d3542a419d6"},
            "parentFolderId": "0AFolderId",
            "customFields": {},
        },
        is_folder=False,
        parent_ids=("0AFolderId",),
    )

    assert expected == normalize_file(BINARY)


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        pytest.param(
            GOOGLE_DOC,
            {"size": None, "hash": None, "thumbnailUrl": None, "customFields": {}},
            id="google-doc-without-size-or-md5",
        ),
        pytest.param(
            SHARED_DRIVE_SHEET,
            {"size": None, "parentFolderId": "0AShared", "customFields": {"driveId": "0AShared"}},
            id="shared-drive-item",
        ),
        pytest.param(
            SHORTCUT,
            {
                "mimeType": "application/vnd.google-apps.shortcut",
                "customFields": {
                    "shortcutTargetId": "1AbCdEf",
                    "shortcutTargetMimeType": "application/vnd.google-apps.document",
                },
            },
            id="shortcut",
        ),
        pytest.param(
            {**SHORTCUT, "driveId": "0AShared"},
            {
                "customFields": {
                    "driveId": "0AShared",
                    "shortcutTargetId": "1AbCdEf",
                    "shortcutTargetMimeType": "application/vnd.google-apps.document",
                }
            },
            id="shortcut-in-shared-drive",
        ),
        pytest.param(
            FOLDER,
            {"mimeType": "application/vnd.google-apps.folder", "size": None, "hash": None},
            id="folder",
        ),
        pytest.param({**BINARY, "size": 7}, {"size": 7}, id="integer-size"),
        pytest.param({**BINARY, "size": "n/a"}, {"size": None}, id="unreadable-size"),
        pytest.param(
            {**BINARY, "modifiedTime": "2024-05-02T12:11:12.345+02:00"},
            {"updatedAt": "2024-05-02T10:11:12.345Z"},
            id="offset-becomes-utc-z",
        ),
        pytest.param(
            {**BINARY, "modifiedTime": "2024-05-02T10:11:12Z"},
            {"updatedAt": "2024-05-02T10:11:12.000Z"},
            id="seconds-get-milliseconds",
        ),
        pytest.param(
            {**BINARY, "modifiedTime": "yesterday"}, {"updatedAt": None}, id="unreadable-time"
        ),
        pytest.param(
            {"id": "1Bare"},
            {
                "name": "",
                "mimeType": "",
                "url": None,
                "createdAt": None,
                "updatedAt": None,
                "parentFolderId": None,
            },
            id="bare-resource",
        ),
        pytest.param(
            {**BINARY, "parents": ["0AFirst", "0ASecond"]},
            {"parentFolderId": "0AFirst"},
            id="first-of-several-parents",
        ),
    ],
)
def test_file_kinds_normalize(file, expected):
    """Each kind of Drive item maps to the File fields in the table."""
    data = normalize_file(file).data

    assert expected == {key: data[key] for key in expected}


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (FOLDER, (True, ("0ARoot",))),
        (SHORTCUT, (False, ("0AOther",))),
        (GOOGLE_DOC, (False, ("0AFolderId",))),
        ({"id": "1Orphan", "mimeType": "text/plain"}, (False, ())),
        ({**BINARY, "parents": ["0AFirst", "0ASecond"]}, (False, ("0AFirst", "0ASecond"))),
    ],
)
def test_folder_flag_and_parent_ids(file, expected):
    """Only folders are folders; `parent_ids` is Drive's `parents` list."""
    upsert = normalize_file(file)

    assert expected == (upsert.is_folder, upsert.parent_ids)


def test_data_holds_nothing_drive_did_not_send():
    """The same resource always normalizes to the same data, so unchanged files hash equal."""
    assert record_hash(normalize_file(BINARY).data) == record_hash(
        normalize_file(dict(BINARY)).data
    )


def test_data_excludes_the_store_id():
    """The record data leaves `id` for the store to derive."""
    assert "id" not in normalize_file(BINARY).data


def test_resource_without_id_is_an_upstream_error():
    """A file without an id cannot become a record."""
    with pytest.raises(UpstreamResponseError):
        normalize_file({"name": "ghost"})

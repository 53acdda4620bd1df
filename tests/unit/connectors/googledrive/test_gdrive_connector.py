"""The Google Drive connector against Drive-shaped responses from an `httpx.MockTransport`."""

import json
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from syncline.connectors.base import ConnectorContext
from syncline.connectors.googledrive import spec
from syncline.domain.permissions import Access, Grant, Relation
from syncline.domain.records import ChangePage, ListPage
from syncline.engine.hierarchy import scope_changes
from syncline.errors import (
    CursorInvalid,
    NotDownloadable,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)

API = "https://www.googleapis.com"
FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
DOC = "application/vnd.google-apps.document"
FILE_FIELDS = (
    "id",
    "name",
    "mimeType",
    "size",
    "md5Checksum",
    "webViewLink",
    "thumbnailLink",
    "createdTime",
    "modifiedTime",
    "parents",
    "trashed",
    "driveId",
    "shortcutDetails(targetId,targetMimeType)",
    "permissionIds",
    "permissions(id,type,role,emailAddress,domain,allowFileDiscovery,deleted,"
    "permissionDetails(inherited,inheritedFrom,permissionType))",
)


class StaticAuth(httpx.Auth):
    def auth_flow(self, request):
        request.headers["Authorization"] = "Bearer ya29.test"
        yield request


def drive_file(file_id, name=None, mime_type="application/pdf", parents=("0ARoot",), **extra):
    """A `drive#file` as files.list / files.get return it."""
    file = {
        "kind": "drive#file",
        "id": file_id,
        "name": name or f"{file_id}.pdf",
        "mimeType": mime_type,
        "parents": list(parents),
        "trashed": False,
        "createdTime": "2024-01-01T09:00:00.000Z",
        "modifiedTime": "2024-05-02T10:11:12.345Z",
        "webViewLink": f"https://drive.google.com/file/d/{file_id}/view",
    }
    if not mime_type.startswith("application/vnd.google-apps."):
        file |= {"size": "100", "md5Checksum": "9e107d9d372bb6826bd81d3542a419d6"}
    return file | extra


def folder(file_id, parents=("0ARoot",), **extra):
    return drive_file(file_id, name=file_id, mime_type=FOLDER, parents=parents, **extra)


def file_list(files, next_page_token=None, *, incomplete=False):
    body = {"kind": "drive#fileList", "incompleteSearch": incomplete, "files": files}
    if next_page_token is not None:
        body["nextPageToken"] = next_page_token
    return httpx.Response(200, json=body)


def drive_error(status, reason, message, *, location=None, headers=None):
    detail = {"domain": "global", "reason": reason, "message": message}
    if location is not None:
        detail |= {"location": location, "locationType": "parameter"}
    body = {"error": {"code": status, "message": message, "errors": [detail]}}
    return httpx.Response(status, json=body, headers=headers)


def bad_page_token():
    return drive_error(400, "invalid", "Invalid Value", location="pageToken")


def not_found(file_id):
    return drive_error(404, "notFound", f"File not found: {file_id}.", location="fileId")


def listed_ids(pages):
    return [[item.external_id for item in page.items] for page in pages]


async def collect(pages):
    """The pages, each with its items parsed (My Drive pages come as bytes for the engine)."""
    return [
        replace(page, items=page.parsed(), unparsed=None) if isinstance(page, ListPage) else page
        async for page in pages
    ]


@pytest.fixture
async def drive():
    """Builds a connector whose HTTP goes to `handler`; returns it and the requests it sent."""
    clients = []

    def make(handler, configuration=None):
        requests = []

        def record(request):
            requests.append(request)
            return handler(request)

        client = httpx.AsyncClient(transport=httpx.MockTransport(record))
        clients.append(client)
        ctx = ConnectorContext(http=client, auth=StaticAuth(), api_url=API)
        config = spec.config_model.model_validate(configuration or {})
        return spec.build(config, ctx), requests

    yield make
    for client in clients:
        await client.aclose()


# --- start_cursor ---------------------------------------------------------------------------


async def test_start_cursor_returns_the_start_page_token(drive):
    """`start_cursor` asks changes.getStartPageToken, for all drives, with our token."""
    connector, requests = drive(
        lambda request: httpx.Response(
            200, json={"kind": "drive#startPageToken", "startPageToken": "1234567"}
        )
    )
    expected = ("1234567", "/drive/v3/changes/startPageToken", "true", "Bearer ya29.test")

    token = await connector.start_cursor()

    request = requests[0]
    assert expected == (
        token,
        request.url.path,
        request.url.params["supportsAllDrives"],
        request.headers["Authorization"],
    )


async def test_start_cursor_without_token_is_an_upstream_error(drive):
    """A response without `startPageToken` is not silently accepted."""
    connector, _ = drive(lambda request: httpx.Response(200, json={"kind": "drive#startPageToken"}))

    with pytest.raises(UpstreamResponseError):
        await connector.start_cursor()


async def test_transport_failure_is_upstream_unavailable(drive):
    """A dropped connection becomes the retryable `UpstreamUnavailable`."""

    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    connector, _ = drive(handler)

    with pytest.raises(UpstreamUnavailable):
        await connector.start_cursor()


# --- list_all: everything ---------------------------------------------------------------------


async def test_listing_everything_requests_tokens_and_file_fields(drive):
    """files.list names the page tokens and every file field, across all drives."""
    connector, requests = drive(lambda request: file_list([drive_file("a")]))

    await collect(connector.list_all(None))

    params = requests[0].url.params
    fields = params["fields"]
    expected = {
        "path": "/drive/v3/files",
        "corpora": "allDrives",
        "q": "trashed = false",
        "pageSize": "1000",
        "supportsAllDrives": "true",
        "includeItemsFromAllDrives": "true",
        "tokens": True,
        "file_fields": True,
    }
    assert expected == {
        "path": requests[0].url.path,
        "corpora": params["corpora"],
        "q": params["q"],
        "pageSize": params["pageSize"],
        "supportsAllDrives": params["supportsAllDrives"],
        "includeItemsFromAllDrives": params["includeItemsFromAllDrives"],
        "tokens": "nextPageToken" in fields and "incompleteSearch" in fields,
        "file_fields": f"files({','.join(FILE_FIELDS)})" in fields,
    }


async def test_listing_follows_tokens_through_empty_pages(drive):
    """An empty page with a nextPageToken is not the end; only a page without a token is."""
    pages = {
        None: file_list([drive_file("a"), drive_file("b")], "t1"),
        "t1": file_list([], "t2"),
        "t2": file_list([], "t3"),
        "t3": file_list([drive_file("c")]),
    }
    connector, requests = drive(lambda request: pages[request.url.params.get("pageToken")])
    expected = (
        [["a", "b"], [], [], ["c"]],
        [{"pageToken": "t1"}, {"pageToken": "t2"}, {"pageToken": "t3"}, None],
        [None, "t1", "t2", "t3"],
    )

    listed = await collect(connector.list_all(None))

    assert expected == (
        listed_ids(listed),
        [page.checkpoint for page in listed],
        [request.url.params.get("pageToken") for request in requests],
    )


async def test_listing_resumes_at_the_checkpoint_page(drive):
    """A checkpoint resumes the listing at its page token, not at the start."""
    pages = {"t2": file_list([drive_file("c")], "t3"), "t3": file_list([drive_file("d")])}
    connector, requests = drive(lambda request: pages[request.url.params.get("pageToken")])
    expected = ([["c"], ["d"]], ["t2", "t3"])

    listed = await collect(connector.list_all({"pageToken": "t2"}))

    assert expected == (
        listed_ids(listed),
        [request.url.params["pageToken"] for request in requests],
    )


async def test_incomplete_search_marks_the_page_incomplete(drive):
    """`incompleteSearch: true` makes the page `complete=False`."""
    pages = {
        None: file_list([drive_file("a")], "t1", incomplete=True),
        "t1": file_list([drive_file("b")]),
    }
    connector, _ = drive(lambda request: pages[request.url.params.get("pageToken")])
    expected = [False, True]

    listed = await collect(connector.list_all(None))

    assert expected == [page.complete for page in listed]


async def test_listing_maps_records_and_skips_trashed(drive):
    """Listed files become records; a trashed file that slips through is left out."""
    connector, _ = drive(
        lambda request: file_list(
            [folder("F"), drive_file("a", parents=["F"]), drive_file("t", trashed=True)]
        )
    )
    expected = [("F", True, ()), ("a", False, ("F",))]

    (page,) = await collect(connector.list_all(None))

    assert expected == [
        (item.external_id, item.is_folder, item.parent_ids if not item.is_folder else ())
        for item in page.items
    ]


async def test_rejected_listing_page_token_is_cursor_invalid(drive):
    """Drive's 400 on `pageToken` makes the listing start over (`CursorInvalid`)."""
    connector, _ = drive(lambda request: bad_page_token())

    with pytest.raises(CursorInvalid):
        await collect(connector.list_all({"pageToken": "expired"}))


@pytest.mark.parametrize("checkpoint", [{}, {"pageToken": 5}, {"index": 3}])
async def test_checkpoint_of_another_shape_is_cursor_invalid(drive, checkpoint):
    """A checkpoint that does not fit the configuration restarts the listing."""
    connector, requests = drive(lambda request: file_list([]))
    expected: list[httpx.Request] = []

    with pytest.raises(CursorInvalid):
        await collect(connector.list_all(checkpoint))

    assert expected == requests


async def test_repeated_page_token_is_an_upstream_error(drive):
    """A page whose nextPageToken is the token just used fails instead of looping forever."""
    pages = {None: file_list([], "t1"), "t1": file_list([], "t1")}
    connector, _ = drive(lambda request: pages[request.url.params.get("pageToken")])

    with pytest.raises(UpstreamResponseError):
        await collect(connector.list_all(None))


# --- list_all: folderId -------------------------------------------------------------------


def children_query(folder_id):
    return f"'{folder_id}' in parents and trashed = false"


def folder_tree_handler(children, *, root=None):
    """Serves files.get for the root `R` and paged child listings per folder."""

    def handler(request):
        path = request.url.path
        if path.startswith("/drive/v3/files/"):
            return httpx.Response(200, json=root or folder("R"))
        key = (request.url.params["q"], request.url.params.get("pageToken"))
        return children[key]

    return handler


TREE = {
    (children_query("R"), None): file_list([folder("A", ["R"]), drive_file("f1", parents=["R"])]),
    (children_query("A"), None): file_list([folder("B", ["A"])], "A2"),
    (children_query("A"), "A2"): file_list([drive_file("f2", parents=["A"])]),
    (children_query("B"), None): file_list([drive_file("f3", parents=["B"])]),
}


async def test_folder_sync_walks_the_tree_breadth_first(drive):
    """The root folder comes first as a record, then each folder's children, level by level."""
    connector, requests = drive(folder_tree_handler(TREE), {"folderId": "R"})
    expected = (
        [["R"], ["A", "f1"], ["B"], ["f2"], ["f3"]],
        [
            {"folders": ["R"], "pageToken": None, "driveId": None},
            {"folders": ["A"], "pageToken": None, "driveId": None},
            {"folders": ["A", "B"], "pageToken": "A2", "driveId": None},
            {"folders": ["B"], "pageToken": None, "driveId": None},
            None,
        ],
        [
            "/drive/v3/files/R",
            children_query("R"),
            children_query("A"),
            children_query("A"),
            children_query("B"),
        ],
    )

    listed = await collect(connector.list_all(None))

    assert expected == (
        listed_ids(listed),
        [page.checkpoint for page in listed],
        [request.url.params.get("q", request.url.path) for request in requests],
    )


async def test_folder_sync_resumes_without_relisting_finished_folders(drive):
    """Resuming from a folder checkpoint continues the current folder's page, then the queue."""
    connector, requests = drive(folder_tree_handler(TREE), {"folderId": "R"})
    checkpoint = {"folders": ["A", "B"], "pageToken": "A2", "driveId": None}
    expected = (
        [["f2"], ["f3"]],
        [(children_query("A"), "A2"), (children_query("B"), None)],
    )

    listed = await collect(connector.list_all(checkpoint))

    assert expected == (
        listed_ids(listed),
        [(request.url.params["q"], request.url.params.get("pageToken")) for request in requests],
    )


async def test_folder_sync_checkpoints_are_json(drive):
    """Every folder checkpoint survives a JSON round trip unchanged."""
    connector, _ = drive(folder_tree_handler(TREE), {"folderId": "R"})

    listed = await collect(connector.list_all(None))

    checkpoints = [page.checkpoint for page in listed]
    assert checkpoints == json.loads(json.dumps(checkpoints))


async def test_folder_sync_root_request_asks_for_file_fields(drive):
    """The root folder is fetched with files.get, the file fields and `supportsAllDrives`."""
    connector, requests = drive(folder_tree_handler(TREE), {"folderId": "R"})
    expected = ("true", True)

    await collect(connector.list_all(None))

    params = requests[0].url.params
    assert expected == (
        params["supportsAllDrives"],
        all(field in params["fields"] for field in FILE_FIELDS),
    )


async def test_folder_sync_in_a_shared_drive_lists_that_drive(drive):
    """Children of a shared-drive folder are listed in that drive's corpus."""
    root = folder("R", driveId="0AShared", parents=["0AShared"])
    children = {(children_query("R"), None): file_list([drive_file("f", parents=["R"])])}
    connector, requests = drive(folder_tree_handler(children, root=root), {"folderId": "R"})
    expected = ("drive", "0AShared", "true", "true", {"driveId": "0AShared"})

    listed = await collect(connector.list_all(None))

    params = requests[1].url.params
    assert expected == (
        params["corpora"],
        params["driveId"],
        params["supportsAllDrives"],
        params["includeItemsFromAllDrives"],
        listed[0].items[0].data["customFields"],
    )


async def test_folder_sync_uses_the_root_id_drive_returns(drive):
    """An alias such as `root` is resolved by files.get; children are listed by the real id."""
    children = {(children_query("0AMyDriveRoot"), None): file_list([])}
    connector, requests = drive(
        folder_tree_handler(children, root=folder("0AMyDriveRoot", parents=[])),
        {"folderId": "root"},
    )
    expected = ("/drive/v3/files/root", children_query("0AMyDriveRoot"))

    await collect(connector.list_all(None))

    assert expected == (requests[0].url.path, requests[1].url.params["q"])


async def test_folder_listed_twice_in_the_tree_is_walked_once(drive):
    """A folder with two parents inside the tree is listed once per run."""
    children = {
        (children_query("R"), None): file_list([folder("A", ["R"]), folder("B", ["R"])]),
        (children_query("A"), None): file_list([folder("C", ["A", "B"])]),
        (children_query("B"), None): file_list([folder("C", ["A", "B"])]),
        (children_query("C"), None): file_list([]),
    }
    connector, requests = drive(folder_tree_handler(children), {"folderId": "R"})
    expected = [children_query(f) for f in ("R", "A", "B", "C")]

    await collect(connector.list_all(None))

    assert expected == [request.url.params["q"] for request in requests[1:]]


async def test_folder_sync_of_a_single_file_yields_just_that_file(drive):
    """A folderId that names a file yields that file and lists nothing."""
    connector, requests = drive(folder_tree_handler({}, root=drive_file("R")), {"folderId": "R"})
    expected = ([["R"]], [None], 1)

    listed = await collect(connector.list_all(None))

    assert expected == (listed_ids(listed), [page.checkpoint for page in listed], len(requests))


@pytest.mark.parametrize(
    "response",
    [not_found("R"), httpx.Response(200, json=folder("R", trashed=True))],
    ids=["missing", "trashed"],
)
async def test_folder_sync_of_a_missing_root_is_not_found(drive, response):
    """A root folder that is gone or in the trash fails the listing with `UpstreamNotFound`."""
    connector, _ = drive(lambda request: response, {"folderId": "R"})

    with pytest.raises(UpstreamNotFound):
        await collect(connector.list_all(None))


@pytest.mark.parametrize(
    "checkpoint",
    [
        {"pageToken": "t1"},
        {"folders": [], "pageToken": None, "driveId": None},
        {"folders": [1], "pageToken": None, "driveId": None},
        {"folders": ["A"], "pageToken": 3, "driveId": None},
    ],
)
async def test_folder_checkpoint_of_another_shape_is_cursor_invalid(drive, checkpoint):
    """A checkpoint that is not a folder-walk checkpoint restarts the listing."""
    connector, _ = drive(folder_tree_handler(TREE), {"folderId": "R"})

    with pytest.raises(CursorInvalid):
        await collect(connector.list_all(checkpoint))


# --- list_all: fileIds --------------------------------------------------------------------


def files_by_id(files):
    def handler(request):
        file_id = request.url.path.rsplit("/", 1)[-1]
        if file_id in files:
            return httpx.Response(200, json=files[file_id])
        return not_found(file_id)

    return handler


async def test_file_ids_skip_missing_and_trashed_items(drive):
    """Each fileId is fetched; a 404 or a trashed item is simply absent."""
    files = {"a": drive_file("a"), "t": drive_file("t", trashed=True), "b": folder("b")}
    connector, requests = drive(files_by_id(files), {"fileIds": ["a", "gone", "t", "b"]})
    expected = (
        [["a", "b"]],
        [None],
        ["/drive/v3/files/a", "/drive/v3/files/gone", "/drive/v3/files/t", "/drive/v3/files/b"],
    )

    listed = await collect(connector.list_all(None))

    assert expected == (
        listed_ids(listed),
        [page.checkpoint for page in listed],
        [request.url.path for request in requests],
    )


async def test_file_ids_checkpoint_and_resume_by_index(drive):
    """Pages of fileIds checkpoint the index reached, and a resume starts there."""
    ids = [f"id{i}" for i in range(60)]
    connector, _ = drive(files_by_id({i: drive_file(i) for i in ids}), {"fileIds": ids})
    resumed, requests = drive(files_by_id({i: drive_file(i) for i in ids}), {"fileIds": ids})
    expected = ([{"index": 50}, None], ids[50:])

    listed = await collect(connector.list_all(None))
    await collect(resumed.list_all({"index": 50}))

    assert expected == (
        [page.checkpoint for page in listed],
        [request.url.path.rsplit("/", 1)[-1] for request in requests],
    )


async def test_file_ids_permission_error_propagates(drive):
    """A fileId that answers 403 without a rate-limit reason fails the listing."""
    connector, _ = drive(
        lambda request: drive_error(403, "insufficientFilePermissions", "No access"),
        {"fileIds": ["a"]},
    )

    with pytest.raises(UpstreamPermissionDenied):
        await collect(connector.list_all(None))


@pytest.mark.parametrize("checkpoint", [{"index": 5}, {"index": -1}, {"index": "1"}, {}])
async def test_file_ids_checkpoint_out_of_range_is_cursor_invalid(drive, checkpoint):
    """An index that does not fit the fileIds restarts the listing."""
    connector, _ = drive(files_by_id({}), {"fileIds": ["a", "b"]})

    with pytest.raises(CursorInvalid):
        await collect(connector.list_all(checkpoint))


# --- changes --------------------------------------------------------------------------------

CHANGES_PAGE = {
    "kind": "drive#changeList",
    "nextPageToken": "1234601",
    "changes": [
        {
            "kind": "drive#change",
            "changeType": "file",
            "time": "2024-05-02T10:11:12.345Z",
            "removed": False,
            "fileId": "1AbCdEf",
            "file": {
                "id": "1AbCdEf",
                "name": "Q3 plan",
                "parents": ["0AFolderId"],
                "trashed": True,
                "mimeType": DOC,
                "modifiedTime": "2024-05-02T10:11:12.345Z",
            },
            "driveId": None,
        },
        {
            "kind": "drive#change",
            "changeType": "file",
            "time": "2024-05-02T10:12:00.000Z",
            "removed": True,
            "fileId": "1GoneForever",
        },
        {
            "kind": "drive#change",
            "changeType": "drive",
            "time": "2024-05-02T10:13:00.000Z",
            "removed": False,
            "driveId": "0AShared",
            "drive": {"id": "0AShared", "name": "Eng"},
        },
        {
            "kind": "drive#change",
            "changeType": "file",
            "time": "2024-05-02T10:14:00.000Z",
            "removed": False,
            "fileId": "1New",
            "file": drive_file("1New"),
        },
    ],
}
LAST_CHANGES_PAGE = {"kind": "drive#changeList", "newStartPageToken": "1234650", "changes": []}


def change(file_id, *, removed=False, **file):
    entry = {"kind": "drive#change", "changeType": "file", "removed": removed, "fileId": file_id}
    if not removed:
        entry["file"] = drive_file(file_id, **file)
    return entry


def changes_handler(pages):
    return lambda request: httpx.Response(200, json=pages[request.url.params["pageToken"]])


async def test_a_root_alias_scope_takes_my_drives_real_id_before_the_feed(drive):
    """With `folderId: "root"`, the connector asks Drive for My Drive's real id before reading
    the feed, so the folder's own change entry (named by that id) stays in scope."""

    def handle(request):
        if request.url.path == "/drive/v3/files/root":
            return httpx.Response(200, json={"id": "0ARoot"})
        return httpx.Response(200, json={**LAST_CHANGES_PAGE, "changes": [change("0ARoot")]})

    connector, requests = drive(handle, {"folderId": "root"})

    [page] = await collect(connector.changes("100"))
    scoped = await scope_changes(page, connector.scope, _no_folders_known)

    assert ["/drive/v3/files/root", "/drive/v3/changes"] == [r.url.path for r in requests]
    assert "0ARoot" == connector.scope.folder_id
    assert (["0ARoot"], []) == ([u.external_id for u in scoped.upserts], scoped.deletions)


async def _no_folders_known(ids: object) -> set[str]:
    return set()


async def test_changes_request_tokens_and_all_drives(drive):
    """changes.list asks for both page tokens, change and file fields, across all drives."""
    connector, requests = drive(changes_handler({"100": LAST_CHANGES_PAGE}))

    await collect(connector.changes("100"))

    params = requests[0].url.params
    fields = params["fields"]
    expected = {
        "path": "/drive/v3/changes",
        "pageToken": "100",
        "pageSize": "1000",
        "includeRemoved": "true",
        "supportsAllDrives": "true",
        "includeItemsFromAllDrives": "true",
        "tokens": True,
        "change_fields": True,
        "file_fields": True,
    }
    assert expected == {
        "path": requests[0].url.path,
        "pageToken": params["pageToken"],
        "pageSize": params["pageSize"],
        "includeRemoved": params["includeRemoved"],
        "supportsAllDrives": params["supportsAllDrives"],
        "includeItemsFromAllDrives": params["includeItemsFromAllDrives"],
        "tokens": "nextPageToken" in fields and "newStartPageToken" in fields,
        "change_fields": "changes(changeType,removed,fileId,driveId,file(" in fields,
        "file_fields": f"file({','.join(FILE_FIELDS)})" in fields,
    }


async def test_changes_map_trash_removal_and_drive_entries(drive):
    """Trashed and removed files are deletions, drive entries are skipped, the rest upserts."""
    connector, _ = drive(changes_handler({"100": CHANGES_PAGE, "1234601": LAST_CHANGES_PAGE}))
    expected = [
        (["1New"], ["1AbCdEf", "1GoneForever"], "1234601"),
        ([], [], "1234650"),
    ]

    pages = await collect(connector.changes("100"))

    assert expected == [
        ([u.external_id for u in page.upserts], page.deletions, page.cursor) for page in pages
    ]


async def test_changes_upserts_are_normalized_records(drive):
    """A changed file arrives as the same record a listing would give."""
    connector, _ = drive(changes_handler({"100": CHANGES_PAGE, "1234601": LAST_CHANGES_PAGE}))
    expected = {
        "externalId": "1New",
        "name": "1New.pdf",
        "mimeType": "application/pdf",
        "size": 100,
        "url": "https://drive.google.com/file/d/1New/view",
        "thumbnailUrl": None,
        "createdAt": "2024-01-01T09:00:00.000Z",
        "updatedAt": "2024-05-02T10:11:12.345Z",
        "hash": {"type": "MD5", "value": "9e107d9d372bb6826bd81d3542a419d6"},
        "parentFolderId": "0ARoot",
        "customFields": {},
    }

    pages = await collect(connector.changes("100"))

    assert expected == pages[0].upserts[0].data


async def test_changes_follow_empty_pages_to_the_new_start_token(drive):
    """Empty pages with a nextPageToken are followed; the last cursor is newStartPageToken."""
    connector, requests = drive(
        changes_handler(
            {
                "100": {"kind": "drive#changeList", "nextPageToken": "101", "changes": []},
                "101": {"kind": "drive#changeList", "nextPageToken": "102", "changes": []},
                "102": {
                    "kind": "drive#changeList",
                    "newStartPageToken": "200",
                    "changes": [change("x")],
                },
            }
        )
    )
    expected = (["101", "102", "200"], ["100", "101", "102"])

    pages = await collect(connector.changes("100"))

    assert expected == (
        [page.cursor for page in pages],
        [request.url.params["pageToken"] for request in requests],
    )


async def test_changes_collapse_repeats_within_a_page(drive):
    """Several changes to one file in a page collapse to the last one."""
    page = {
        "kind": "drive#changeList",
        "newStartPageToken": "200",
        "changes": [
            change("a", name="v1"),
            change("b"),
            change("a", name="v2"),
            change("b", removed=True),
            change("c", removed=True),
            change("c", name="back"),
        ],
    }
    connector, _ = drive(changes_handler({"100": page}))
    expected = ([("a", "v2"), ("c", "back")], ["b"])

    (result,) = await collect(connector.changes("100"))

    assert expected == (
        [(u.external_id, u.data["name"]) for u in result.upserts],
        result.deletions,
    )


async def test_changes_yield_change_pages(drive):
    """`changes` yields `ChangePage`s."""
    connector, _ = drive(changes_handler({"100": LAST_CHANGES_PAGE}))
    expected = [ChangePage(upserts=[], deletions=[], cursor="1234650")]

    pages = await collect(connector.changes("100"))

    assert expected == pages


async def test_rejected_change_cursor_is_cursor_invalid(drive):
    """Drive's 400 on the change pageToken asks for a full resync (`CursorInvalid`)."""
    connector, _ = drive(lambda request: bad_page_token())

    with pytest.raises(CursorInvalid):
        await collect(connector.changes("stale"))


async def test_change_page_without_any_token_is_an_upstream_error(drive):
    """A change page with neither token cannot be resumed from, so it fails."""
    connector, _ = drive(changes_handler({"100": {"kind": "drive#changeList", "changes": []}}))

    with pytest.raises(UpstreamResponseError):
        await collect(connector.changes("100"))


async def test_rate_limited_changes_raise_retryable_error(drive):
    """A 403 userRateLimitExceeded on changes.list is `UpstreamRateLimited`."""
    connector, _ = drive(
        lambda request: drive_error(
            403, "userRateLimitExceeded", "User Rate Limit Exceeded", headers={"Retry-After": "5"}
        )
    )

    expected = timedelta(seconds=5)

    with pytest.raises(UpstreamRateLimited) as caught:
        await collect(connector.changes("100"))

    assert expected == caught.value.retry_after


# --- download -------------------------------------------------------------------------------

EXPORTS = [
    (
        "application/vnd.google-apps.document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Q3 plan.docx",
    ),
    (
        "application/vnd.google-apps.spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Q3 plan.xlsx",
    ),
    (
        "application/vnd.google-apps.presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "Q3 plan.pptx",
    ),
    ("application/vnd.google-apps.drawing", "application/pdf", "Q3 plan.pdf"),
]


def download_handler(files, content=b"file-bytes"):
    """files.get metadata from `files`; `alt=media` and `/export` answer `content`."""

    def handler(request):
        parts = request.url.path.split("/")
        if parts[-1] == "export":
            return httpx.Response(200, content=content)
        file_id = parts[-1]
        if file_id not in files:
            return not_found(file_id)
        if request.url.params.get("alt") == "media":
            return httpx.Response(200, content=content)
        return httpx.Response(200, json=files[file_id])

    return handler


async def read(download):
    try:
        return b"".join([chunk async for chunk in download.chunks])
    finally:
        await download.close()


@pytest.mark.parametrize(("mime_type", "export_type", "filename"), EXPORTS)
async def test_native_documents_export_to_office_formats(drive, mime_type, export_type, filename):
    """Docs, Sheets, Slides and Drawings export to DOCX, XLSX, PPTX and PDF."""
    files = {"1Doc": drive_file("1Doc", name="Q3 plan", mime_type=mime_type)}
    connector, requests = drive(download_handler(files))
    expected = (export_type, filename, b"file-bytes", "/drive/v3/files/1Doc/export", export_type)

    download = await connector.download("1Doc")
    content = await read(download)

    assert expected == (
        download.media_type,
        download.filename,
        content,
        requests[-1].url.path,
        requests[-1].url.params["mimeType"],
    )


async def test_export_keeps_an_extension_already_present(drive):
    """A document already named `.docx` does not get a second extension."""
    files = {"1Doc": drive_file("1Doc", name="Notes.DOCX", mime_type=DOC)}
    connector, _ = drive(download_handler(files))
    expected = "Notes.DOCX"

    download = await connector.download("1Doc")
    await download.close()

    assert expected == download.filename


async def test_binary_file_downloads_its_media(drive):
    """A binary file streams `alt=media` with its own type and name, for all drives."""
    files = {"1Pdf": drive_file("1Pdf", name="report.pdf")}
    connector, requests = drive(download_handler(files, content=b"%PDF-1.7"))
    expected = ("application/pdf", "report.pdf", b"%PDF-1.7", "media", "true", "Bearer ya29.test")

    download = await connector.download("1Pdf")
    content = await read(download)

    assert expected == (
        download.media_type,
        download.filename,
        content,
        requests[-1].url.params["alt"],
        requests[-1].url.params["supportsAllDrives"],
        requests[-1].headers["Authorization"],
    )


async def test_metadata_request_asks_only_for_what_download_needs(drive):
    """The metadata lookup names its fields and `supportsAllDrives`."""
    files = {"1Pdf": drive_file("1Pdf")}
    connector, requests = drive(download_handler(files))
    expected = ("true", {"id", "name", "mimeType", "shortcutDetails(targetId", "targetMimeType)"})

    await read(await connector.download("1Pdf"))

    params = requests[0].url.params
    assert expected == (params["supportsAllDrives"], set(params["fields"].split(",")))


async def test_shortcut_downloads_its_target(drive):
    """A shortcut is followed: the target's content, type and name are returned."""
    files = {
        "1Short": drive_file(
            "1Short",
            name="Q3 plan",
            mime_type=SHORTCUT,
            shortcutDetails={"targetId": "1Doc", "targetMimeType": DOC},
        ),
        "1Doc": drive_file("1Doc", name="Q3 plan", mime_type=DOC),
    }
    connector, requests = drive(download_handler(files))
    expected = (
        "Q3 plan.docx",
        ["/drive/v3/files/1Short", "/drive/v3/files/1Doc", "/drive/v3/files/1Doc/export"],
    )

    await read(download := await connector.download("1Short"))

    assert expected == (download.filename, [request.url.path for request in requests])


async def test_dangling_shortcut_is_not_found(drive):
    """A shortcut whose target is gone raises `UpstreamNotFound`."""
    files = {
        "1Short": drive_file("1Short", mime_type=SHORTCUT, shortcutDetails={"targetId": "1Gone"})
    }
    connector, _ = drive(download_handler(files))

    with pytest.raises(UpstreamNotFound):
        await connector.download("1Short")


@pytest.mark.parametrize(
    "file",
    [
        folder("1Folder"),
        drive_file("1Form", mime_type="application/vnd.google-apps.form"),
        drive_file("1Site", mime_type="application/vnd.google-apps.site"),
        drive_file("1Map", mime_type="application/vnd.google-apps.map"),
        drive_file("1Short", mime_type=SHORTCUT, shortcutDetails={}),
        drive_file("1Short", mime_type=SHORTCUT, shortcutDetails={"targetId": "1Folder"}),
    ],
    ids=["folder", "form", "site", "map", "shortcut-without-target", "shortcut-to-folder"],
)
async def test_items_without_content_are_not_downloadable(drive, file):
    """Folders and native types with no export raise `NotDownloadable` before any content call."""
    files = {file["id"]: file, "1Folder": folder("1Folder")}
    connector, requests = drive(download_handler(files))

    with pytest.raises(NotDownloadable):
        await connector.download(file["id"])

    assert all("alt" not in r.url.params and "export" not in r.url.path for r in requests)


async def test_missing_file_download_is_not_found(drive):
    """Downloading an id Drive does not know raises `UpstreamNotFound`."""
    connector, _ = drive(download_handler({}))

    with pytest.raises(UpstreamNotFound):
        await connector.download("1Nope")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            drive_error(
                403, "fileNotDownloadable", "Only files with binary content", location="alt"
            ),
            NotDownloadable,
        ),
        (
            drive_error(403, "exportSizeLimitExceeded", "This file is too large to be exported."),
            UpstreamPermissionDenied,
        ),
        (
            drive_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded"),
            UpstreamRateLimited,
        ),
        (httpx.Response(503, text="Service Unavailable"), UpstreamUnavailable),
    ],
)
async def test_content_errors_are_translated(drive, response, expected):
    """An error on the streamed content request is read, translated and raised."""
    files = {"1Pdf": drive_file("1Pdf"), "1Doc": drive_file("1Doc", mime_type=DOC)}

    def handler(request):
        if request.url.params.get("alt") == "media" or request.url.path.endswith("/export"):
            return response
        return download_handler(files)(request)

    connector, _ = drive(handler)

    with pytest.raises(expected):
        await connector.download("1Pdf")
    with pytest.raises(expected):
        await connector.download("1Doc")


async def test_download_streams_in_chunks(drive):
    """The content is streamed from the response, not read up front."""

    async def body():
        yield b"one-"
        yield b"two"

    def handler(request):
        if request.url.params.get("alt") == "media":
            return httpx.Response(200, content=body())
        return httpx.Response(200, json=drive_file("1Bin", mime_type="application/zip"))

    connector, _ = drive(handler)
    expected = ("application/zip", b"one-two")

    download = await connector.download("1Bin")
    content = await read(download)

    assert expected == (download.media_type, content)


async def test_listing_pages_are_list_pages(drive):
    """`list_all` yields `ListPage`s."""
    connector, _ = drive(lambda request: file_list([]))
    expected = [ListPage(items=[], checkpoint=None)]

    listed = await collect(connector.list_all(None))

    assert expected == listed


# --- permissions ----------------------------------------------------------------------------

MEMBERS = [
    {"id": "11", "type": "user", "role": "organizer", "emailAddress": "alice@example.com"},
    {"id": "12", "type": "group", "role": "reader", "emailAddress": "eng@example.com"},
]


def perm(pid, email, role, *, inherited_from=None, kind="user"):
    entry = {"id": pid, "type": kind, "role": role, "emailAddress": email}
    detail = {"permissionType": "file", "inherited": inherited_from is not None}
    if inherited_from is not None:
        detail["inheritedFrom"] = inherited_from
    return entry | {"permissionDetails": [detail]}


def permission_list(permissions, next_page_token=None):
    body = {"kind": "drive#permissionList", "permissions": permissions}
    if next_page_token is not None:
        body["nextPageToken"] = next_page_token
    return httpx.Response(200, json=body)


async def test_my_drive_items_carry_their_own_grants_without_extra_requests(drive):
    """A My Drive item's access comes from its `permissions`, inherited entries dropped; the
    page costs one request, and the record data is the same as without permissions."""
    shared = drive_file(
        "a",
        permissions=[
            perm("1", "alice@example.com", "owner"),
            perm("2", "Bob@example.com", "writer"),
            perm("3", "carol@example.com", "reader", inherited_from="0AFolder"),
        ],
        permissionIds=["1", "2", "3"],
    )
    connector, requests = drive(lambda request: file_list([shared]))
    plain, _ = drive(lambda request: file_list([drive_file("a")]))

    [page] = await collect(connector.list_all(None))
    [plain_page] = await collect(plain.list_all(None))

    item = page.items[0]
    assert 1 == len(requests)
    assert (
        Access(
            (
                Grant(Relation.EDITOR, "user:bob@example.com"),
                Grant(Relation.OWNER, "user:alice@example.com"),
            ),
            None,
        )
        == item.access
    )
    assert plain_page.items[0].data == item.data


def shared_drive_handler(items, item_permissions, *, drive_status=200):
    """files.list returns `items`; permissions.list answers the drive's members or an item's."""

    def handle(request):
        path = request.url.path
        if path == "/drive/v3/files":
            return file_list(items)
        if path == "/drive/v3/files/0AShared/permissions":
            if drive_status != 200:
                return not_found("0AShared")
            return permission_list(MEMBERS)
        file_id = path.split("/")[4]
        if file_id not in item_permissions:
            return not_found(file_id)
        pages = item_permissions[file_id]
        token = request.url.params.get("pageToken", "")
        return permission_list(*pages[token])

    return handle


async def test_shared_drive_items_fetch_permissions_only_for_extra_grants(drive):
    """Members-only items get no grants and no request; an item with a non-member permission
    id is read through permissions.list (paged, all drives), keeping direct entries only; the
    drive's members are read once."""
    members_only = drive_file("m", driveId="0AShared", permissionIds=["11", "12"])
    extra = drive_file("x", driveId="0AShared", permissionIds=["11", "12", "99", "98"])
    inherited = [
        {
            **MEMBERS[0],
            "permissionDetails": [
                {"permissionType": "member", "inherited": True, "inheritedFrom": "0AShared"}
            ],
        }
    ]
    pages = {
        "x": {
            "": ([*inherited, perm("99", "dave@example.com", "commenter")], "p2"),
            "p2": ([perm("98", "eng-leads@example.com", "writer", kind="group")],),
        }
    }
    connector, requests = drive(shared_drive_handler([members_only, extra, members_only], pages))

    [page] = await collect(connector.list_all(None))

    permission_calls = [r for r in requests if r.url.path.endswith("/permissions")]
    assert [
        Access((), "0AShared"),
        Access(
            (
                Grant(Relation.EDITOR, "group:eng-leads@example.com"),
                Grant(Relation.VIEWER, "user:dave@example.com"),
            ),
            "0AShared",
        ),
        Access((), "0AShared"),
    ] == [item.access for item in page.items]
    assert [
        "/drive/v3/files/0AShared/permissions",
        "/drive/v3/files/x/permissions",
        "/drive/v3/files/x/permissions",
    ] == [r.url.path for r in permission_calls]
    assert {
        ("true", "nextPageToken,permissions(" + FILE_FIELDS[-1].removeprefix("permissions("))
    } == {(r.url.params["supportsAllDrives"], r.url.params["fields"]) for r in permission_calls}


async def test_items_of_a_drive_the_account_is_not_member_of_read_their_permissions(drive):
    """When the drive's members cannot be read (404), any permission id leads to the item's
    permissions.list."""
    item = drive_file("x", driveId="0AShared", permissionIds=["11"])
    pages = {"x": {"": ([perm("11", "alice@example.com", "reader")],)}}
    connector, _ = drive(shared_drive_handler([item], pages, drive_status=404))

    [page] = await collect(connector.list_all(None))

    assert Access((Grant(Relation.VIEWER, "user:alice@example.com"),), "0AShared") == (
        page.items[0].access
    )


async def test_an_item_deleted_before_its_permissions_are_read_gets_none(drive):
    """A shared-drive item whose permissions.list answers 404 (deleted since it was listed) is
    kept without grants of its own, not an error: the change feed reports the deletion."""
    gone = drive_file("gone", driveId="0AShared", permissionIds=["11", "99"])
    connector, _ = drive(shared_drive_handler([gone], {}))

    [page] = await collect(connector.list_all(None))

    assert [Access((), "0AShared")] == [item.access for item in page.items]


async def test_container_grants_map_members_and_raise_not_found(drive):
    """container_grants lists a shared drive's members as grants; a gone drive is
    UpstreamNotFound."""
    connector, requests = drive(shared_drive_handler([], {}))
    missing, _ = drive(shared_drive_handler([], {}, drive_status=404))

    grants = await connector.container_grants("0AShared")

    assert [
        Grant(Relation.OWNER, "user:alice@example.com"),
        Grant(Relation.VIEWER, "group:eng@example.com"),
    ] == grants
    assert "true" == requests[0].url.params["supportsAllDrives"]
    with pytest.raises(UpstreamNotFound):
        await missing.container_grants("0AShared")


def directory_member(email, kind="USER", status="ACTIVE"):
    return {"kind": "admin#directory#member", "email": email, "type": kind, "status": status}


async def test_group_members_pages_and_maps_members(drive):
    """group_members follows pages of 200 and keeps active users and groups."""
    pages = {
        "": {
            "members": [
                directory_member("Bob@example.com"),
                directory_member("inner@example.com", "GROUP"),
                directory_member("gone@example.com", status="SUSPENDED"),
            ],
            "nextPageToken": "t2",
        },
        "t2": {
            "members": [{"id": "C0", "type": "CUSTOMER"}, directory_member("carol@example.com")]
        },
    }
    connector, requests = drive(
        lambda request: httpx.Response(200, json=pages[request.url.params.get("pageToken", "")])
    )

    members = await connector.group_members("eng@example.com")

    assert ["user:bob@example.com", "group:inner@example.com", "user:carol@example.com"] == members
    assert ("/admin/directory/v1/groups/eng@example.com/members", "200") == (
        requests[0].url.path,
        requests[0].url.params["maxResults"],
    )


@pytest.mark.parametrize("reason", ["insufficientPermissions", "forbidden", "notAuthorized"])
async def test_group_members_without_directory_access_is_none(drive, reason):
    """A 403 saying the credential may not read the directory leaves the group opaque."""
    connector, _ = drive(lambda request: drive_error(403, reason, "Not Authorized"))

    assert await connector.group_members("eng@example.com") is None


async def test_group_members_of_an_unknown_group_is_empty(drive):
    """404 from the directory: a group nobody is known to be in."""
    connector, _ = drive(lambda request: drive_error(404, "notFound", "Resource Not Found"))

    assert [] == await connector.group_members("eng@example.com")


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (lambda: drive_error(403, "userRateLimitExceeded", "slow down"), UpstreamRateLimited),
        (lambda: drive_error(503, "backendError", "later"), UpstreamUnavailable),
    ],
)
async def test_group_members_other_errors_are_mapped(drive, response, error):
    """Rate limits and outages from the directory raise the usual (retryable) errors."""
    connector, _ = drive(lambda request: response())

    with pytest.raises(error):
        await connector.group_members("eng@example.com")


async def test_drive_changes_report_their_container_and_files_carry_access(drive):
    """A `drive` change names its drive in changed_containers (no upsert, no deletion); file
    changes carry their grants."""
    shared = change("1New", permissions=[perm("2", "bob@example.com", "reader")])
    page = {
        "kind": "drive#changeList",
        "newStartPageToken": "101",
        "changes": [CHANGES_PAGE["changes"][2], shared, CHANGES_PAGE["changes"][2]],
    }
    connector, _ = drive(changes_handler({"100": page}))

    [result] = await collect(connector.changes("100"))

    assert ("0AShared",) == result.changed_containers
    assert (["1New"], []) == ([u.external_id for u in result.upserts], result.deletions)
    assert (Grant(Relation.VIEWER, "user:bob@example.com"),) == result.upserts[0].access.grants


async def test_my_drive_pages_come_unparsed_and_shared_drive_pages_parsed(drive):
    """A listing page of My Drive items is handed over as bytes with `parse_listing` (their
    permissions are inline), with its token read from it; a page that holds a shared-drive
    item is parsed by the connector, which may need `permissions.list` for it."""
    shared = {**drive_file("s"), "driveId": "0AShared"}
    pages = {None: file_list([drive_file("a")], "t1"), "t1": file_list([shared])}
    connector, _ = drive(
        lambda request: (
            pages[request.url.params.get("pageToken")]
            if request.url.path.endswith("/files")
            else httpx.Response(200, json={"permissions": []})
        )
    )

    first, second = [page async for page in connector.list_all(None)]

    assert first.unparsed is not None
    assert ([], {"pageToken": "t1"}) == (first.items, first.checkpoint)
    assert ["a"] == [item.external_id for item in first.parsed()]
    assert second.unparsed is None
    assert ["s"] == [item.external_id for item in second.items]


async def test_an_unparsable_listing_page_is_an_upstream_error(drive):
    """A listing page that is not JSON fails with `UpstreamResponseError`, before its bytes
    reach a parser."""
    connector, _ = drive(lambda request: httpx.Response(200, content=b'{"files": ['))

    with pytest.raises(UpstreamResponseError):
        await collect(connector.list_all(None))

"""What the Amazon S3 connector does beyond the connector contract (tests/integration/contract),
against moto's S3 server over HTTP with signatures checked: keys that need encoding, listings
of more than one page, re-lists that cost nothing, streamed content, S3's refusals (denied,
gone bucket, dead keys, another region) as terminal errors with a reason, and its throttling
as a wait. SQLite only: the contract suite runs the connector on PostgreSQL too."""

from __future__ import annotations

import tracemalloc
from typing import Any

import httpx
import orjson
import pytest

from syncline.connectors.amazons3.config import S3Config
from syncline.connectors.amazons3.connector import PAGE_SIZE, S3Connector
from syncline.connectors.base import ConnectorContext
from syncline.domain.ids import record_id
from syncline.pipelines import validate_record
from tests.support.s3 import OTHER_REGION, REGION, S3Harness, s3_harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ODD_KEYS = (
    "with space/and+plus.txt",
    "ünïcödé/日本語 ファイル.md",
    "percent%25 & ampersand = equals?.txt",
    "x/../dots.txt",
    "tilde~/star*(parens).csv",
)


@pytest.fixture
async def s(database_url):
    async with s3_harness(database_url) as running:
        yield running


async def _records(s: S3Harness, sid: str) -> dict[str, dict[str, Any]]:
    records, _ = await s.h.pull(sid)
    return {r["externalId"]: r for r in records}


async def _live(s: S3Harness, sid: str) -> set[str]:
    return {k for k, r in (await _records(s, sid)).items() if not r.get("deleted")}


async def _run(s: S3Harness, sid: str) -> None:
    await s.h.trigger(sid)
    await s.h.settle()


def _events(s: S3Harness) -> list[tuple[str, str]]:
    return [
        (e["event"], e["data"]["recordId"])
        for e in s.h.receiver.events()
        if "recordId" in (e.get("data") or {})
    ]


async def _log(s: S3Harness, sid: str) -> list[dict[str, Any]]:
    answer = await s.h.api.get(f"/api/syncs/{sid}/events", headers=s.h.auth())
    return list(answer.json()["data"])


def _context(s: S3Harness, http: httpx.AsyncClient) -> ConnectorContext:
    return ConnectorContext(
        http=http, auth=httpx.Auth(), api_url=s.url, provider_data=s.keys.provider_data()
    )


async def test_keys_with_spaces_plus_signs_and_unicode_round_trip(s):
    """Keys that S3 must URL-encode are listed (`encoding-type=url`, decoded) as exactly the
    keys uploaded, each a valid record whose name is the last segment, and each downloads as
    its bytes: every request signed over the encoded path, which moto checks."""
    for index, key in enumerate(ODD_KEYS):
        s.put(key, f"content {index}".encode())
    await s.connect()
    sid = await s.synced()
    records = await _records(s, sid)

    assert set(ODD_KEYS) == set(records)
    for key, record in records.items():
        validate_record("files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")})
        assert key.rpartition("/")[2] == record["name"]
    for index, key in enumerate(ODD_KEYS):
        answer = await s.h.api.get(
            f"/api/syncs/{sid}/records/{record_id(sid, key)}/content", headers=s.h.auth()
        )
        assert (200, f"content {index}".encode()) == (answer.status_code, answer.content)


async def test_a_record_carries_the_etag_size_storage_class_and_prefix(s):
    """An object's record: `hash` the ETag (unquoted, type ETAG), `size`, `updatedAt` from
    LastModified, the MIME type from the extension, `parentFolderId` its prefix, and
    `customFields` with the quoted ETag, the storage class and the bucket."""
    s.put("reports/2024/q1.pdf", b"%PDF-1.7 quarterly")
    await s.connect()
    sid = await s.synced()
    record = (await _records(s, sid))["reports/2024/q1.pdf"]
    etag = record["customFields"]["etag"]

    assert {"type": "ETAG", "value": etag.strip('"')} == record["hash"]
    assert etag.startswith('"')
    assert 18 == record["size"]
    assert "application/pdf" == record["mimeType"]
    assert "reports/2024/" == record["parentFolderId"]
    assert {"bucket": "documents", "etag": etag, "storageClass": "STANDARD"} == record[
        "customFields"
    ]
    assert record["updatedAt"].endswith("Z")
    assert record["createdAt"] is None


async def test_folder_markers_are_not_records_and_have_no_content(s):
    """The empty `A/` object the S3 console makes for a folder is no record; the objects
    under it are, with `A/` as their parent."""
    s.put("A/", b"")
    s.put("A/inside.txt", b"in")
    await s.connect()
    sid = await s.synced()
    records = await _records(s, sid)

    assert {"A/inside.txt"} == set(records)
    assert "A/" == records["A/inside.txt"]["parentFolderId"]


async def test_a_listing_of_several_pages_holds_every_key_once_and_resumes(s):
    """More keys than one `ListObjectsV2` page holds are listed page by page with S3's
    continuation token, every key once; and the checkpoint after the first page (that token)
    resumes the listing where it stopped, the two parts holding every key once."""
    keys = [f"bulk/{i:05d}.txt" for i in range(PAGE_SIZE + 5)]
    for key in keys:
        s.put(key, b"x")
    await s.connect()
    sid = await s.synced()
    live = await _live(s, sid)
    tokens = [q for m, path, q in s.proxy.requests if "continuation-token=" in q]
    async with httpx.AsyncClient() as http:
        connector = S3Connector(S3Config(bucket=s.bucket), _context(s, http))
        first = await anext(connector.list_all(None))
        assert first.checkpoint is not None
        rest = [page async for page in connector.list_all(first.checkpoint)]
    seen = [u.external_id for page in [first, *rest] for u in page.parsed()]

    assert set(keys) == live
    assert 1 == len(tokens)
    assert sorted(keys) == sorted(seen)
    assert len(seen) == len(set(seen))
    assert rest[-1].checkpoint is None


async def test_a_relist_of_an_unchanged_bucket_changes_nothing(s):
    """Every run lists the bucket again (no change feed); objects whose ETag and size did not
    change write nothing and send no webhook, while a rewritten object is one
    `record_updated` and a deleted one one `record_deleted`."""
    s.put("keep.txt", b"same")
    s.put("edit.txt", b"before")
    s.put("gone.txt", b"bye")
    await s.connect()
    sid = await s.synced()
    await _run(s, sid)
    quiet = _events(s)
    s.put("edit.txt", b"after, longer")
    s.admin.delete(s.bucket, "gone.txt")
    await _run(s, sid)
    records = await _records(s, sid)

    assert [] == quiet
    assert sorted(
        [
            ("record_updated", record_id(sid, "edit.txt")),
            ("record_deleted", record_id(sid, "gone.txt")),
        ]
    ) == sorted(_events(s))
    assert 13 == records["edit.txt"]["size"]
    assert "FULL_SYNC_COMPLETED" in {e["syncEvent"] for e in await _log(s, sid)}


async def test_an_empty_object_downloads_as_no_bytes(s):
    """A 0-byte object has a record of size 0 and downloads as an empty body."""
    s.put("empty.bin", b"")
    await s.connect()
    sid = await s.synced()
    answer = await s.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, 'empty.bin')}/content", headers=s.h.auth()
    )

    assert 0 == (await _records(s, sid))["empty.bin"]["size"]
    assert (200, b"") == (answer.status_code, answer.content)


async def test_content_type_is_the_objects_own_else_the_extensions(s):
    """Download answers with the Content-Type the object was stored with, and for one stored
    without a type, the type of its extension."""
    s.put("typed.data", b"{}", content_type="application/json")
    s.put("plain.csv", b"a,b\n")
    await s.connect()
    sid = await s.synced()
    typed = await s.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, 'typed.data')}/content", headers=s.h.auth()
    )
    guessed = await s.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, 'plain.csv')}/content", headers=s.h.auth()
    )

    assert "application/json" == typed.headers["content-type"]
    assert guessed.headers["content-type"].startswith("text/csv")


async def test_a_large_object_streams_without_being_held_in_memory(s):
    """GetObject is streamed: reading a 24 MiB object chunk by chunk never holds more than a
    small part of it in memory (as a 5 GB object must not be)."""
    size = 24 * 1024 * 1024
    s.put("big.bin", b"\xab" * size)
    async with httpx.AsyncClient() as http:
        connector = S3Connector(S3Config(bucket=s.bucket), _context(s, http))
        tracemalloc.start()
        try:
            download = await connector.download("big.bin")
            received = 0
            async for chunk in download.chunks:
                received += len(chunk)
            await download.close()  # type: ignore[misc]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert size == received
    assert peak < size // 4, f"peak {peak} bytes while streaming {size}"


async def test_slow_down_and_503_are_waited_out_in_the_run(s):
    """S3's `503 SlowDown` is a rate limit and `503 ServiceUnavailable` an outage: both are
    retried inside the run, which ends IDLE with the change in the feed."""
    await s.connect()
    sid = await s.synced()
    s.proxy.faults.inject("slowdown", path="/documents")
    s.proxy.faults.inject("503", path="/documents")
    s.put("later.txt", b"x")
    await _run(s, sid)
    logged = {e["syncEvent"] for e in await _log(s, sid)}

    assert 2 == s.proxy.fired()
    assert "IDLE" == (await s.h.status(sid))["status"]
    assert [("record_created", record_id(sid, "later.txt"))] == _events(s)
    assert {"SYNC_RUN_RATE_LIMITED", "SYNC_RUN_RETRY"} <= logged


async def test_access_denied_errors_the_sync_with_a_reason(s):
    """When the keys lose their right to list the bucket (a real IAM policy change), the next
    run turns the sync ERRORED, its reason naming S3's AccessDenied."""
    await s.connect()
    sid = await s.synced()
    nothing = orjson.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
        }
    ).decode()
    s.admin.iam("PutUserPolicy", UserName="reader", PolicyName="p", PolicyDocument=nothing)
    await _run(s, sid)
    status = await s.h.status(sid)

    assert "ERRORED" == status["status"]
    assert "AccessDenied" in status["reason"]


async def test_a_deleted_bucket_errors_the_sync_with_a_reason(s):
    """A bucket deleted after the sync was enabled turns it ERRORED on the next run, its
    reason naming S3's NoSuchBucket."""
    s.put("only.txt", b"1")
    await s.connect()
    sid = await s.synced()
    s.admin.delete(s.bucket, "only.txt")
    assert 204 == s.admin._s3.delete(f"{s.admin.url}/{s.bucket}").status_code
    await _run(s, sid)
    status = await s.h.status(sid)

    assert "ERRORED" == status["status"]
    assert "NoSuchBucket" in status["reason"]


async def test_a_deleted_access_key_revokes_the_credential(s):
    """When the access key is deleted in IAM, S3 answers InvalidAccessKeyId: the credential
    is revoked and the sync turns ERRORED with that reason, without retrying."""
    await s.connect()
    sid = await s.synced()
    s.admin.iam("DeleteAccessKey", UserName="reader", AccessKeyId=s.keys.access_key_id)
    await _run(s, sid)
    status = await s.h.status(sid)
    credentials = (await s.h.api.get("/api/credentials", headers=s.h.auth())).json()["data"]

    assert "ERRORED" == status["status"]
    assert "InvalidAccessKeyId" in status["reason"]
    assert ["REVOKED"] == [c["status"] for c in credentials]


async def test_an_expired_session_token_errors_the_sync(s):
    """S3's `ExpiredToken` (temporary keys past their expiry) is terminal: no retry, the sync
    ERRORED with the reason, the credential revoked."""
    await s.connect()
    sid = await s.synced()
    s.proxy.faults.inject("expired_token", path="/documents", times=5)
    await _run(s, sid)
    status = await s.h.status(sid)

    assert 1 == s.proxy.fired()
    assert "ERRORED" == status["status"]
    assert "ExpiredToken" in status["reason"]


async def test_session_tokens_sign_every_request(s):
    """Temporary keys (STS AssumeRole) are imported with their session token, which goes with
    every request as `X-Amz-Security-Token`: moto checks it, and the sync lists the bucket."""
    s.put("a.txt", b"a")
    session = s.admin.session()
    await s.connect(keys=session)
    sid = await s.synced()

    assert {"a.txt"} == await _live(s, sid)
    assert session.session_token is not None


async def test_a_bucket_in_another_region_is_a_422_at_enable(s):
    """S3's `301 PermanentRedirect` (the bucket's region in `x-amz-bucket-region`) refuses the
    sync at enable, naming `configuration.bucket` and the region to use."""
    await s.connect()
    s.proxy.faults.inject("redirect", path="/documents")
    answer = await s.enable()

    assert 422 == answer.status_code
    assert "configuration.bucket" == answer.json()["field"]
    assert OTHER_REGION in answer.json()["message"]


async def test_a_bucket_moving_to_another_region_errors_the_sync(s):
    """A bucket recreated in another region since the sync was enabled turns it ERRORED, the
    reason naming the bucket's region."""
    await s.connect()
    sid = await s.synced()
    s.proxy.faults.inject("redirect", path="/documents", times=5)
    await _run(s, sid)
    status = await s.h.status(sid)

    assert "ERRORED" == status["status"]
    assert OTHER_REGION in status["reason"]


async def test_keys_that_may_not_list_the_bucket_are_a_422_at_enable(s):
    """Keys valid for STS but without `s3:ListBucket` on the bucket are refused at enable,
    naming `configuration.bucket`."""
    policy = orjson.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}],
        }
    ).decode()
    await s.connect(keys=s.admin.user("identity-only", policy))
    answer = await s.enable()

    assert 422 == answer.status_code
    assert "configuration.bucket" == answer.json()["field"]
    assert "AccessDenied" in answer.json()["message"]


async def test_the_default_origin_is_the_credentials_region(s):
    """Without SYNCLINE_AMAZONS3_API_URL the connector calls `https://s3.{region}.amazonaws
    .com` path-style, the region from the credential (no request leaves this machine: the
    client's transport answers)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            content=b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<IsTruncated>false</IsTruncated></ListBucketResult>",
        )

    ctx = ConnectorContext(
        http=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
        auth=httpx.Auth(),
        api_url="https://s3.{region}.amazonaws.com",
        provider_data=s.keys.provider_data("ap-southeast-2"),
    )
    connector = S3Connector(S3Config(bucket="team-docs", folder_id="a b/"), ctx)
    pages = [page async for page in connector.list_all(None)]

    assert 1 == len(pages)
    assert "s3.ap-southeast-2.amazonaws.com" == seen[0].url.host
    assert b"/team-docs" == seen[0].url.raw_path.split(b"?")[0]
    assert "prefix=a%20b%2F" in seen[0].url.query.decode()
    assert "/ap-southeast-2/s3/aws4_request" in seen[0].headers["Authorization"]
    assert REGION != "ap-southeast-2"

"""Synced records: the change-ordered feed, one record, and its content streamed live."""

from __future__ import annotations

from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from syncline.api.deps import PrincipalDep, ServicesDep, refuse_nul
from syncline.api.errors import documented
from syncline.api.paging import PAGING_PARAMETERS, page_size, parse_cursor
from syncline.api.schemas import OneRecord, RecordsPage
from syncline.domain.syncs import Sync
from syncline.errors import NotDownloadable, NotFound
from syncline.store.store import LiveRecord

router = APIRouter(
    prefix="/api/syncs/{sync_id}/records",
    responses=documented(401, 404, 422, 429, 503),
    dependencies=[Depends(refuse_nul)],
)


@router.get(
    "",
    responses={200: {"model": RecordsPage}},
    openapi_extra={"parameters": PAGING_PARAMETERS},
)
async def pull(
    sync_id: str, request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    size = page_size(request)
    after = parse_cursor(request, services.cursors, "r", sync.id)
    page = await services.store.records_page(sync.id, after, size)
    last = page.last_seq if page.last_seq is not None else after
    paging = {
        "totalRecords": sync.total_records,
        "totalActiveRecords": sync.active_records,
        "remainingRecords": page.remaining,
        "cursor": services.cursors.encode("r", sync.id, last),
        "lastSeen": page.last_changed_ms,
    }
    # Records are stored as JSON text: splice them in rather than parse and re-serialize.
    body = (
        b'{"data":[' + ",".join(page.rows).encode() + b'],"paging":' + orjson.dumps(paging) + b"}"
    )
    return Response(body, media_type="application/json")


async def _live_record(
    sync_id: str, record_id: str, principal: PrincipalDep, services: ServicesDep
) -> tuple[Sync, LiveRecord]:
    """The caller's sync and one of its records that is not deleted; NotFound otherwise."""
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    found = await services.store.get_record(sync.id, record_id)
    if found is None:
        raise NotFound("Record not found", code="RECORD_NOT_FOUND")
    return sync, found


@router.get("/{record_id}", responses={200: {"model": OneRecord}})
async def one(
    sync_id: str, record_id: str, principal: PrincipalDep, services: ServicesDep
) -> Response:
    _, found = await _live_record(sync_id, record_id, principal, services)
    return Response(b'{"data":' + found.data.encode() + b"}", media_type="application/json")


@router.get(
    "/{record_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes, with the file's own media type.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        **documented(502),
    },
)
async def content(
    sync_id: str, record_id: str, principal: PrincipalDep, services: ServicesDep
) -> StreamingResponse:
    sync, found = await _live_record(sync_id, record_id, principal, services)
    external_id, is_folder = found.external_id, found.is_folder
    if is_folder:
        raise NotDownloadable("Folders have no content to download.")
    download = await (await services.connector(sync)).download(external_id)
    headers = {}
    if download.filename:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download.filename)}"
    return StreamingResponse(
        download.chunks,
        media_type=download.media_type,
        headers=headers,
        background=BackgroundTask(download.close),
    )

"""The Sync API: enable, list, status, update, disable, re-enable, trigger, delete, events."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from syncline.api.deps import PrincipalDep, ServicesDep, refuse_nul
from syncline.api.errors import documented
from syncline.api.paging import PAGING_PARAMETERS, page_size, parse_cursor
from syncline.api.schemas import (
    EventsPage,
    SyncAction,
    SyncCreate,
    SyncDeleted,
    SyncEnabled,
    SyncList,
    SyncStatusPublic,
    SyncUpdate,
    SyncUpdated,
    TriggerAccepted,
    TriggerRequest,
)
from syncline.domain.notifications import iso
from syncline.domain.syncs import Sync, SyncStatus

router = APIRouter(
    prefix="/api/syncs",
    responses=documented(401, 422, 429, 503),
    dependencies=[Depends(refuse_nul)],
)


def _when(value: object) -> str | None:
    return None if value is None else iso(value)  # type: ignore[arg-type]  # datetime or None


def _listed(sync: Sync) -> dict[str, object]:
    return {
        "id": sync.id,
        "integration": sync.integration,
        "pipeline": sync.pipeline,
        "status": sync.status.value,
        "reason": sync.reason,
        "configurationName": sync.configuration_name,
        "credentialId": sync.credential_id,
        "dateCreated": iso(sync.created_at),
        "dateUpdated": iso(sync.updated_at),
    }


def _status(sync: Sync, services: ServicesDep) -> dict[str, object]:
    body: dict[str, object] = {
        "id": sync.id,
        "integration": sync.integration,
        "pipeline": sync.pipeline,
        "configurationName": sync.configuration_name,
        "status": sync.status.value,
        "summary": {
            "totalRecords": sync.total_records,
            "totalActiveRecords": sync.active_records,
            "syncedRecordsCount": sync.active_records,
            "lastSyncedAt": _when(sync.last_synced_at),
            "lastPeriodicFullSyncedAt": _when(sync.last_full_synced_at),
            "latestCursor": services.cursors.encode("r", sync.id, sync.last_seq),
        },
        "credentialId": sync.credential_id,
    }
    if sync.frequency is not None:
        body["incrementalAccumulatorFrequency"] = sync.frequency
    if sync.status is SyncStatus.RATE_LIMITED and sync.rate_limit_backoff_ms is not None:
        body["rateLimitBackoffMs"] = sync.rate_limit_backoff_ms
    if sync.reason is not None:
        body["reason"] = sync.reason
    return body


@router.post(
    "", response_model=None, responses={200: {"model": SyncEnabled}, **documented(400, 404)}
)
async def enable(
    body: SyncCreate, principal: PrincipalDep, services: ServicesDep
) -> dict[str, object]:
    sync = await services.syncs.enable(
        principal.project_id,
        principal.user_id,
        integration=body.integration,
        pipeline=body.pipeline,
        configuration=body.configuration,
        configuration_name=body.configuration_name,
        credential_id=None if body.credential_id is None else str(body.credential_id),
        frequency=body.frequency,
    )
    return {
        "id": sync.id,
        "userId": sync.user_id,
        "integration": sync.integration,
        "pipeline": sync.pipeline,
        "projectId": sync.project_id,
        "configurationName": sync.configuration_name,
        "credentialId": sync.credential_id,
        "status": sync.status.value,
    }


@router.get("", response_model=None, responses={200: {"model": SyncList}})
async def list_syncs(
    principal: PrincipalDep,
    services: ServicesDep,
    credentialId: str | None = None,  # noqa: N803 - Paragon's name
) -> dict[str, object]:
    found = await services.store.list_syncs(principal.project_id, principal.user_id, credentialId)
    return {"data": [_listed(s) for s in found]}


@router.get(
    "/{sync_id}",
    response_model=None,
    responses={200: {"model": SyncStatusPublic}, **documented(404)},
)
async def status(sync_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, object]:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    return _status(sync, services)


@router.patch(
    "/{sync_id}",
    response_model=None,
    responses={200: {"model": SyncUpdated}, **documented(400, 404)},
)
async def update(
    sync_id: str, body: SyncUpdate, principal: PrincipalDep, services: ServicesDep
) -> dict[str, object]:
    sync = await services.syncs.patch(
        principal.project_id,
        principal.user_id,
        sync_id,
        credential_id=None if body.credential_id is None else str(body.credential_id),
        frequency=body.frequency,
    )
    data: dict[str, object] = {"credentialId": sync.credential_id}
    if sync.frequency is not None:
        data["incrementalAccumulatorFrequency"] = sync.frequency
    return {
        "id": sync.id,
        "data": data,
        "message": "Update request accepted and is being processed",
    }


@router.post(
    "/{sync_id}/disable",
    response_model=None,
    responses={200: {"model": SyncAction}, **documented(404)},
)
async def disable(
    sync_id: str, principal: PrincipalDep, services: ServicesDep
) -> dict[str, object]:
    sync = await services.syncs.disable(principal.project_id, principal.user_id, sync_id)
    return {"id": sync.id, "status": sync.status.value, "message": "Sync successfully disabled"}


@router.post(
    "/{sync_id}/reenable",
    response_model=None,
    responses={200: {"model": SyncAction}, **documented(404)},
)
async def reenable(
    sync_id: str, principal: PrincipalDep, services: ServicesDep
) -> dict[str, object]:
    sync = await services.syncs.reenable(principal.project_id, principal.user_id, sync_id)
    return {"id": sync.id, "status": sync.status.value, "message": "Sync successfully re-enabled"}


@router.post(
    "/{sync_id}/trigger",
    status_code=202,
    response_model=None,
    responses={202: {"model": TriggerAccepted}, **documented(400, 404)},
    # The body is optional and parsed by the handler, so the schema is declared here.
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": TriggerRequest.model_json_schema()}},
        }
    },
)
async def trigger(
    sync_id: str, request: Request, principal: PrincipalDep, services: ServicesDep
) -> dict[str, object]:
    raw = await request.body()
    try:  # the body is optional, so it is parsed here rather than by FastAPI
        body = TriggerRequest.model_validate_json(raw) if raw.strip() else TriggerRequest()
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    await services.syncs.trigger(principal.project_id, principal.user_id, sync_id, body.type)
    return {"id": sync_id, "type": body.type}


@router.delete(
    "/{sync_id}", response_model=None, responses={200: {"model": SyncDeleted}, **documented(404)}
)
async def delete(sync_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, object]:
    await services.syncs.delete(principal.project_id, principal.user_id, sync_id)
    return {"id": sync_id, "message": "Sync successfully deleted"}


@router.get(
    "/{sync_id}/events",
    response_model=None,
    responses={200: {"model": EventsPage}, **documented(404)},
    openapi_extra={"parameters": PAGING_PARAMETERS},
)
async def events(
    sync_id: str, request: Request, principal: PrincipalDep, services: ServicesDep
) -> JSONResponse:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    size = page_size(request)
    before = parse_cursor(request, services.cursors, "e", sync.id)
    rows = await services.store.list_events(sync.id, before or None, size)
    data = [
        {
            "id": row["id"],
            "syncId": row["sync_id"],
            "traceId": row["trace_id"],
            "userId": row["user_id"],
            "integration": row["integration"],
            "pipeline": row["pipeline"],
            "syncEvent": row["sync_event"],
            "syncType": row["sync_type"],
            "syncStatus": row["sync_status"],
            "summary": row["summary"],
            "error": row["error"],
            "timestamp": _when(row["created_at"]),
        }
        for row in rows
    ]
    cursor = (
        services.cursors.encode("e", sync.id, int(rows[-1]["id"]))  # type: ignore[call-overload]  # int column
        if len(rows) == size
        else None
    )
    return JSONResponse({"data": data, "paging": {"cursor": cursor}})

"""The Permissions API at Paragon's paths: check, batch-check, list-users, list-objects,
streamed-list-objects and expand, answered from the sync's stored tuples.

Users are emails (`user:` prefix accepted), objects record ids (`file:` or `folder:` prefix
accepted). An object or user the sync does not know is simply denied: the answer never says
whether it exists elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from syncline.api.deps import PrincipalDep, ServicesDep, refuse_nul
from syncline.api.errors import documented
from syncline.api.schemas import (
    BatchCheckBody,
    BatchCheckResult,
    CheckBody,
    CheckResult,
    ExpandBody,
    ExpandResult,
    ListObjectsBody,
    ListUsersBody,
    ObjectsResult,
    UsersResult,
)
from syncline.errors import InvalidInput
from syncline.permissions.evaluator import Check
from syncline.permissions.model import ROLES

router = APIRouter(
    prefix="/api/permissions/{sync_id}",
    responses=documented(400, 401, 404, 422, 429, 503),
    dependencies=[Depends(refuse_nul)],
)

LIST_LIMIT = 1000
"""Paragon's cap on list-users and list-objects; list-objects pages past it with `cursor`."""


def _user(value: str) -> str:
    return value.strip().removeprefix("user:").strip().lower()


def _object(value: str) -> str:
    value = value.strip()
    for prefix in ("file:", "folder:"):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


ROLE_ALIASES = {"reader": "can_read", "writer": "can_write", "owner": "is_owner"}
"""Roles of Paragon's earlier Permissions API, accepted for the current ones."""


def _role(value: str) -> str:
    value = ROLE_ALIASES.get(value, value)
    if value not in ROLES:
        raise InvalidInput(
            f"role must be one of {', '.join(ROLES)}, not {value!r}.",
            field="role",
            code="INVALID_ROLE",
        )
    return value


def _json(body: object) -> Response:
    try:
        content = orjson.dumps(body)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which batch-check echoes back as sent.
        content = json.dumps(body, separators=(",", ":")).encode()
    return Response(content, media_type="application/json")


@router.post("/check", responses={200: {"model": CheckResult}})
async def check(
    sync_id: str, body: CheckBody, principal: PrincipalDep, services: ServicesDep
) -> Response:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    question = Check(_object(body.object), _user(body.user), _role(body.role))
    (allowed,) = await services.permissions.check(sync.id, [question])
    return _json({"hasAccess": allowed})


@router.post("/batch-check", responses={200: {"model": BatchCheckResult}})
async def batch_check(
    sync_id: str, body: BatchCheckBody, principal: PrincipalDep, services: ServicesDep
) -> Response:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    questions: list[Check | None] = []
    errors: list[str | None] = []
    for item in body.checks:
        try:
            parsed = CheckBody.model_validate(item)
            questions.append(Check(_object(parsed.object), _user(parsed.user), _role(parsed.role)))
            errors.append(None)
        except (ValidationError, InvalidInput) as exc:
            questions.append(None)
            errors.append(_item_error(exc))
    asked = [q for q in questions if q is not None]
    answers = iter(await services.permissions.check(sync.id, asked))
    result = []
    for item, question, error in zip(body.checks, questions, errors, strict=True):
        entry: dict[str, Any] = {"allowed": False if question is None else next(answers)}
        entry["request"] = _echo(item)
        if error is not None:
            entry["error"] = error
        result.append(entry)
    return _json({"result": result})


def _echo(item: object) -> object:
    """The check as the caller sent it, its object prefixed `file:` as Paragon echoes it."""
    if not isinstance(item, dict):
        return item
    found = item.get("object")
    return {
        "object": f"file:{_object(found)}" if isinstance(found, str) else found,
        "user": item.get("user"),
        "role": item.get("role", item.get("relation")),
    }


def _item_error(exc: ValidationError | InvalidInput) -> str:
    if isinstance(exc, InvalidInput):
        return str(exc)
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "check"
    return f"{where}: {first['msg']}"


@router.post("/list-users", responses={200: {"model": UsersResult}})
async def list_users(
    sync_id: str, body: ListUsersBody, principal: PrincipalDep, services: ServicesDep
) -> Response:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    users = await services.permissions.list_users(
        sync.id, _object(body.object), _role(body.role), LIST_LIMIT
    )
    return _json({"users": users})


@router.post("/list-objects", responses={200: {"model": ObjectsResult}})
async def list_objects(
    sync_id: str, body: ListObjectsBody, principal: PrincipalDep, services: ServicesDep
) -> Response:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    user, role = _user(body.user), _role(body.role)
    scope = f"{sync.id}|{user}|{role}|{body.object_type}"
    after = services.cursors.decode_key("o", scope, body.cursor) if body.cursor else ""
    objects = [
        object_id
        async for object_id in services.permissions.objects(
            sync.id, user, role, body.object_type, after=after, limit=body.limit + 1
        )
    ]
    out: dict[str, Any] = {"objects": objects[: body.limit]}
    if len(objects) > body.limit:  # an extension: Paragon stops at the limit
        out["cursor"] = services.cursors.encode_key("o", scope, objects[body.limit - 1])
    return _json(out)


@router.post(
    "/streamed-list-objects",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": 'One `{"object": "<record id>"}` JSON line per object.',
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def streamed_list_objects(
    sync_id: str, body: ListObjectsBody, principal: PrincipalDep, services: ServicesDep
) -> StreamingResponse:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    user, role = _user(body.user), _role(body.role)
    objects = services.permissions.objects(sync.id, user, role, body.object_type)

    async def lines() -> AsyncIterator[bytes]:
        # Many objects per chunk: one write per object would cost more than the query.
        chunk: list[bytes] = []
        async for object_id in objects:
            chunk.append(b'{"object":"' + object_id.encode() + b'"}\n')
            if len(chunk) == 500:
                yield b"".join(chunk)
                chunk = []
        if chunk:
            yield b"".join(chunk)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.post("/expand", responses={200: {"model": ExpandResult}})
async def expand(
    sync_id: str, body: ExpandBody, principal: PrincipalDep, services: ServicesDep
) -> Response:
    sync = await services.syncs.get(principal.project_id, principal.user_id, sync_id)
    tree = await services.permissions.expand(sync.id, _object(body.object), body.relation)
    return _json(tree)

"""The sandbox Box under test control.

`BoxControl` adapts one user's Box to the kit's control API (`syncline sandbox add|edit|delete`):
adding uploads a file to their root, editing uploads a new version and/or renames, deleting
moves to the trash, each with the event Box would show.

`control_routes` serves the fake's own knobs, which Box has no API for, beside it:

    GET  /_box/events/delivery   {overlap, duplicate_rate, shuffle, short_chunks, seed}
    PUT  /_box/events/delivery   the same body: how GET /2.0/events repeats, duplicates and
                                 reorders events from now on (see `EventDelivery`)
    POST /_box/events/expire     every stream position issued so far is refused as stale
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.box.errors import json_response
from syncline.sandbox.box.state import BoxState, EventDelivery
from syncline.sandbox.kit.control import ControlledFile

__all__ = ["BoxControl", "control_routes"]


@dataclass(frozen=True)
class BoxControl:
    state: BoxState
    login: str

    def files(self) -> list[ControlledFile]:
        with self.state.lock:
            user = self.state.ensure_user(self.login)
            return [
                ControlledFile(
                    i.id, i.name, "" if i.type != "file" else _mime(i.name), i.type == "folder"
                )
                for i in self.state.items.values()
                if i.status == "active" and self.state.can_see(user, i)
            ]

    def add(self, name: str, content: bytes) -> str:
        return self.state.add_file(name, content, owner=self.login)

    def edit(self, file_id: str, *, name: str | None, content: bytes | None) -> None:
        if content is not None:
            self.state.upload_version(file_id, content)
        if name is not None:
            self.state.rename(file_id, name)

    def delete(self, file_id: str) -> None:
        self.state.trash(file_id)


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _delivery_body(delivery: EventDelivery) -> dict[str, object]:
    return {
        "overlap": delivery.overlap,
        "duplicate_rate": delivery.duplicate_rate,
        "shuffle": delivery.shuffle,
        "short_chunks": delivery.short_chunks,
        "seed": delivery.seed,
    }


def control_routes(state: BoxState) -> list[Route]:
    async def get_delivery(_: Request) -> Response:
        return json_response(_delivery_body(state.delivery))  # type: ignore[arg-type]

    async def put_delivery(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return json_response({"error": "the body must be JSON"}, 400)
        if not isinstance(body, dict):
            return json_response({"error": "the body must be a JSON object"}, 400)
        try:
            delivery = state.set_delivery(
                overlap=int(body.get("overlap", 0)),
                duplicate_rate=float(body.get("duplicate_rate", 0.0)),
                shuffle=bool(body.get("shuffle", False)),
                short_chunks=bool(body.get("short_chunks", False)),
                seed=None if body.get("seed") is None else int(body["seed"]),
            )
        except (TypeError, ValueError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(_delivery_body(delivery))  # type: ignore[arg-type]

    async def expire(_: Request) -> Response:
        state.expire_stream_positions()
        return json_response({"oldest_stream_position": state.stream_end()})

    return [
        Route("/_box/events/delivery", get_delivery, methods=["GET"]),
        Route("/_box/events/delivery", put_delivery, methods=["PUT"]),
        Route("/_box/events/expire", expire, methods=["POST"]),
    ]

"""Property-based fuzzing of every operation the app's OpenAPI schema publishes (schemathesis).

Generated requests carry a valid user token and, half the time, the ids of real objects (a
connected credential, a settled sync, a file and a folder record), so they reach real handlers
with real data. Every response must be a non-5xx that the schema documents: status code,
content type, headers and body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.harness import Harness, harness

ADMIN_TOKEN = "admin-" + "x" * 32
MAX_EXAMPLES = 25
"""Per operation: enough to hit every documented branch, small enough for ~20 s per database."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass
class Target:
    """The running app, the loop that drives it, and ids of real objects it holds."""

    runner: asyncio.Runner
    h: Harness
    ids: dict[str, str]


@contextmanager
def _target(database_url: str, tmp_path: Path) -> Iterator[Target]:
    # Hypothesis drives a synchronous test, so the app gets a loop of its own, run step by step.
    with asyncio.Runner() as runner:
        context = harness(database_url, tmp_path, admin_token=ADMIN_TOKEN)
        h = runner.run(context.__aenter__())
        _resolve_offline(h)
        try:
            yield Target(runner, h, runner.run(_seed(h)))
        finally:
            runner.run(context.__aexit__(None, None, None))


def _resolve_offline(h: Harness) -> None:
    """Webhook URLs the admin API is given resolve to a public address without any lookup,
    so fuzzed host names never reach a DNS server."""

    async def public(_host: str) -> list[str]:
        return ["93.184.216.34"]

    services = h.runtime.app.state.services
    admin = services.admin
    assert admin is not None
    offline = replace(admin.destinations, resolve=public)
    h.runtime.app.state.services = replace(services, admin=replace(admin, destinations=offline))


async def _seed(h: Harness) -> dict[str, str]:
    """A connected credential and a settled sync holding a folder and a file in it."""
    folder = h.drive.add_folder("docs")
    h.drive.add_file("a.txt", content=b"a", parent=folder)
    credential_id = await h.connect()
    sync_id = (await h.enable())["id"]
    await h.settle()
    records, _ = await h.pull(sync_id)
    by_name = {r["name"]: r["id"] for r in records}
    return {
        "credential_id": credential_id,
        "sync_id": sync_id,
        "record_id": by_name["a.txt"],
        "folder_id": by_name["docs"],
        "project_id": h.project_id,
        "integration": "googledrive",
    }


def _send(target: Target, case: Case) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://syncline")
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), bytes | str):
        body["content"] = kwargs["data"]
    request = target.h.api.request(
        kwargs["method"],
        kwargs["url"],
        headers=kwargs["headers"],
        params=kwargs["params"],
        **body,
    )
    return target.runner.run(request)


def _strategy(operation: Any, target: Target, headers: dict[str, str]) -> st.SearchStrategy[Case]:
    """Positive and negative cases with generated ids, and positive ones with real ids."""
    names = [p.name for p in operation.path_parameters]
    real = [
        {name: target.ids[name] for name in names},
        *([{"record_id": target.ids["folder_id"]}] if "record_id" in names else []),
    ]
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    ]
    if names:
        for fixed in real:
            path = {**{name: target.ids[name] for name in names}, **fixed}
            strategies.append(
                operation.as_strategy(
                    GenerationMode.POSITIVE, headers=headers, path_parameters=path
                )
            )
    return st.one_of(strategies)


def _fuzz(operation: Any, target: Target, headers: dict[str, str]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, target, headers))
    def run(case: Case) -> None:
        response = _send(target, case)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def test_every_operation_answers_as_its_schema_says(database_url, tmp_path):
    """Generated requests to every published operation never get a 5xx, and every response
    is one the OpenAPI schema documents (status, content type, headers, body)."""
    with _target(database_url, tmp_path) as target:
        schema = schemathesis.openapi.from_dict(target.h.runtime.app.openapi())
        users, operator = target.h.auth(), {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]  # an invalid schema fails here, as it should
        # Deletes run last so the operations before them see the real objects.
        operations.sort(key=lambda op: op.method.upper() == "DELETE")
        failures: dict[str, BaseException] = {}
        for operation in operations:
            try:
                admin = operation.path.startswith("/admin/")
                _fuzz(operation, target, operator if admin else users)
            except Exception as exc:
                failures[operation.label] = exc

        assert len(operations) >= 20
        assert not failures, "\n\n".join(f"{label}:\n{exc}" for label, exc in failures.items())


@pytest.mark.parametrize(
    ("method", "path", "request_kwargs"),
    [
        ("GET", "/api/syncs/a%00b", {}),
        ("GET", "/api/syncs/a%00b/records/c%00d", {}),
        ("GET", "/api/syncs", {"params": {"credentialId": "a\x00b"}}),
        (
            "POST",
            "/api/syncs",
            {
                "json": {
                    "integration": "googledrive",
                    "pipeline": "files",
                    "configurationName": "\0",
                }
            },
        ),
        (
            "POST",
            "/api/credentials",
            {"json": {"integration": "googledrive", "accessToken": "t", "scopes": ["a\x00"]}},
        ),
    ],
)
async def test_nul_characters_are_refused_with_422(
    database_url, tmp_path, method: str, path: str, request_kwargs: dict[str, Any]
):
    """A NUL in an id, a query parameter or a body string (which PostgreSQL text cannot hold)
    answers 422 naming the field, not a database error. Found by the fuzzing above."""
    async with harness(database_url, tmp_path) as h:
        await h.connect()
        response = await h.api.request(method, path, headers=h.auth(), **request_kwargs)
        listed = await h.api.get("/api/syncs", headers=h.auth())

    assert (422, "VALIDATION_ERROR" if "json" in request_kwargs else "INVALID_REQUEST") == (
        response.status_code,
        response.json()["code"],
    )
    assert response.json()["field"]
    assert [] == listed.json()["data"]


async def test_batch_check_echoes_integers_beyond_64_bits(database_url, tmp_path):
    """A batch-check item holding an integer too large for 64 bits is echoed as sent with its
    own error, not a 500 from the JSON encoder. Found by the fuzzing above."""
    async with harness(database_url, tmp_path) as h:
        target = await _seed(h)
        response = await h.api.post(
            f"/api/permissions/{target['sync_id']}/batch-check",
            headers=h.auth(),
            json={"checks": [{"object": 2**70, "user": "a@example.com", "role": "can_read"}]},
        )

    assert 200 == response.status_code, response.text
    (result,) = response.json()["result"]
    assert (False, 2**70) == (result["allowed"], result["request"]["object"])
    assert result["error"]

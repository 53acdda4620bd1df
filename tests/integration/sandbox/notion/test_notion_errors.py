"""The sandbox Notion's error bodies over real HTTP, each as Notion sends it: `{"object":
"error", "status", "code", "message", "request_id"}`, for version, authentication, capability,
validation and routing errors and for every injectable fault."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.sandbox.notion.conftest import NEW, client


def _shape(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()
    assert {"object", "status", "code", "message", "request_id"} == set(body)
    assert ("error", answer.status_code) == (body["object"], body["status"])
    assert answer.headers["x-notion-request-id"]
    assert answer.headers["content-type"].startswith("application/json")
    return answer.status_code, body["code"], body["message"]


def test_a_missing_version_header_is_400_missing_version(notion, notion_server):
    """Without `Notion-Version`: 400 `missing_version` with Notion's exact message."""
    token, _ = notion.issue_tokens()
    with client(notion_server, token, version=None) as http:
        answer = http.post("/v1/search", json={})

    assert (
        400,
        "missing_version",
        "Notion-Version header failed validation: Notion-Version header should be defined, "
        "instead was `undefined`.",
    ) == _shape(answer)


def test_an_unknown_version_is_refused_and_an_unemulated_one_is_named(notion, notion_server):
    """A version Notion never released is a 400 `validation_error` listing the real versions;
    a real one the sandbox does not emulate (`2026-03-11`) is a 400 `invalid_request` that
    says so, rather than an answer in the wrong shape."""
    token, _ = notion.issue_tokens()
    with client(notion_server, token, "2024-01-01") as http:
        unknown = http.post("/v1/search", json={})
    with client(notion_server, token, "2026-03-11") as http:
        unemulated = http.post("/v1/search", json={})

    status, code, message = _shape(unknown)
    assert (400, "validation_error") == (status, code)
    assert '"2022-06-28", "2025-09-03", or "2026-03-11", instead was `"2024-01-01"`.' in message
    assert (400, "invalid_request") == _shape(unemulated)[:2]


def test_no_token_or_a_bad_one_is_401_unauthorized(notion_server):
    """No `Authorization`, or an unknown bearer token: 401 `unauthorized` "API token is
    invalid."."""
    with client(notion_server, None) as anonymous, client(notion_server, "ntn_nope") as bad:
        answers = [anonymous.post("/v1/search", json={}), bad.get("/v1/users/me")]

    assert [(401, "unauthorized", "API token is invalid.")] * 2 == [_shape(a) for a in answers]


def test_missing_capabilities_are_403_restricted_resource(notion, notion_server):
    """An integration without the read-content capability gets 403 on content endpoints, one
    without user information on `/v1/users`, while `/v1/users/me` still answers."""
    blind = notion.add_bot("No content", read_content=False, user_info="none")
    page = notion.add_page("Page")
    notion.share(page, blind)
    token, _ = notion.issue_tokens(blind)
    with client(notion_server, token) as http:
        answers = [
            http.post("/v1/search", json={}),
            http.get(f"/v1/blocks/{page}/children"),
            http.get("/v1/users"),
        ]
        me = http.get("/v1/users/me")

    assert [
        (403, "restricted_resource", "API token does not have access to this resource.")
    ] * 3 == [_shape(a) for a in answers]
    assert 200 == me.status_code


def test_validation_errors_use_notions_wording(notion, api):
    """A malformed id is "path failed validation: path.page_id should be a valid uuid"; a
    query parameter an endpoint lacks "should be not present"; an unknown id is 404."""
    bad_id = api.get("/v1/pages/12345")
    extra = api.get("/v1/users/me", params={"limit": "5"})
    unknown = api.get("/v1/pages/3c90c3cc-0d44-4b50-8888-8dd25736052a")

    assert (
        400,
        "validation_error",
        'path failed validation: path.page_id should be a valid uuid, instead was `"12345"`.',
    ) == _shape(bad_id)
    assert "query.limit should be not present" in _shape(extra)[2]
    assert (404, "object_not_found") == _shape(unknown)[:2]


def test_a_body_that_is_not_json_is_400_invalid_json(api):
    """An unparseable body: 400 `invalid_json` "Error parsing JSON body."."""
    answer = api.post(
        "/v1/search", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert (400, "invalid_json", "Error parsing JSON body.") == _shape(answer)


def test_unknown_routes_and_methods_are_400_invalid_request_url(api):
    """A path the API lacks, or a method it does not take there: 400 `invalid_request_url`."""
    answers = [api.get("/v1/nowhere"), api.get("/v1/search")]

    assert [(400, "invalid_request_url", "Invalid request URL.")] * 2 == [
        _shape(a) for a in answers
    ]


RATE = "You have been rate limited. Please try again in a few minutes."
OVERLOAD = "Notion is overloaded, please try again later."
DOWN = "Notion is unavailable, please try again later."
CONFLICT = "Conflict occurred while saving. Please try again."


@pytest.mark.parametrize(
    ("fault", "status", "code", "message", "retry_after"),
    [
        ("rate_limited", 429, "rate_limited", RATE, "7"),
        ("service_overload", 529, "service_overload", OVERLOAD, "7"),
        ("internal_server_error", 500, "internal_server_error", "Unexpected error occurred.", None),
        ("bad_gateway", 502, "bad_gateway", "Bad Gateway", None),
        ("service_unavailable", 503, "service_unavailable", DOWN, None),
        ("gateway_timeout", 504, "gateway_timeout", "Gateway Timeout", None),
        ("conflict_error", 409, "conflict_error", CONFLICT, None),
    ],
)
def test_injected_faults_answer_as_notion_does(
    notion, api, fault, status, code, message, retry_after
):
    """Each fault kind is Notion's status, code and message; throttling ones carry
    `Retry-After` in whole seconds; the next request succeeds."""
    notion.inject(fault, retry_after=6.2)

    failed = api.post("/v1/search", json={})
    after = api.post("/v1/search", json={})

    assert (status, code, message) == _shape(failed)
    assert retry_after == failed.headers.get("retry-after")
    assert 200 == after.status_code


def test_an_unauthorized_fault_really_expires_the_token(notion, notion_server):
    """The `unauthorized` fault answers 401 and kills the access token, so only a refresh
    helps."""
    token, _ = notion.issue_tokens()
    notion.inject("unauthorized")
    with client(notion_server, token, NEW) as http:
        first = http.get("/v1/users/me")
        second = http.get("/v1/users/me")

    assert (401, 401) == (first.status_code, second.status_code)
    assert "unauthorized" == second.json()["code"]

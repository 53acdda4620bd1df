"""The operator's admin API: token auth, project webhook settings, and the SSRF guard on them.

Host names are resolved by an injected fake, so no test reaches DNS or any address but 127.0.0.1.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import replace

import httpx
import pytest

from syncline.webhooks import verify
from syncline.webhooks.destinations import DestinationPolicy
from syncline.webhooks.dispatcher import Dispatcher
from tests.support.harness import Harness, harness

ADMIN_TOKEN = "adm-" + uuid.uuid4().hex
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class FakeDNS:
    """Answers for host names; tests change them to play DNS rebinding."""

    def __init__(self, **answers: Sequence[str]) -> None:
        self.answers = {host.replace("_", "."): list(a) for host, a in answers.items()}

    async def __call__(self, host: str) -> Sequence[str]:
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return self.answers[host]


def use_dns(h: Harness, dns: FakeDNS) -> None:
    """Point the running admin API's destination checks at `dns`."""
    services = h.runtime.app.state.services
    admin = services.admin
    assert admin is not None
    destinations = replace(admin.destinations, resolve=dns)
    h.runtime.app.state.services = replace(
        services, admin=replace(admin, destinations=destinations)
    )


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path, admin_token=ADMIN_TOKEN) as running:
        yield running


async def test_without_a_token_the_admin_api_does_not_exist(database_url, tmp_path):
    """With SYNCLINE_ADMIN_TOKEN unset every /admin path answers exactly like an unknown path,
    and the schema does not mention it."""
    async with harness(database_url, tmp_path) as h:
        unknown = await h.api.get("/nothing-here")
        answers = [
            await h.api.get(f"/admin/projects/{h.project_id}", headers=ADMIN),
            await h.api.put(
                f"/admin/projects/{h.project_id}/webhook", headers=ADMIN, json={"url": "x"}
            ),
            await h.api.delete(f"/admin/projects/{h.project_id}/webhook", headers=ADMIN),
        ]
        schema = (await h.api.get("/openapi.json")).text

    assert [404, 404, 404] == [r.status_code for r in answers]
    assert [unknown.json()] * 3 == [r.json() for r in answers]
    assert "/admin" not in schema


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
        {"Authorization": ("Bearer " + "é" * 10).encode("latin-1")},
    ],
    ids=["missing", "wrong", "not-bearer", "longer", "non-ascii"],
)
async def test_admin_api_refuses_a_missing_or_wrong_token(h, headers):
    """Every admin request without the exact admin token is 401 and changes nothing."""
    got = await h.api.get(f"/admin/projects/{h.project_id}", headers=headers)
    put = await h.api.put(
        f"/admin/projects/{h.project_id}/webhook",
        headers=headers,
        json={"url": "https://93.184.216.34/in"},
    )

    assert (401, 401) == (got.status_code, put.status_code)
    assert "UNAUTHORIZED" == got.json()["code"]
    assert ADMIN_TOKEN not in got.text
    project = await h.runtime.store.get_project(h.project_id)
    assert project is not None
    assert project.webhook_url is not None
    assert project.webhook_url.startswith("http://127.0.0.1")


async def test_user_tokens_do_not_open_the_admin_api(h):
    """A valid user token is not an admin token."""
    response = await h.api.get(f"/admin/projects/{h.project_id}", headers=h.auth())

    assert 401 == response.status_code


async def test_get_project_shows_the_webhook_url_but_never_the_secret(h):
    """GET answers id, name and webhook URL; the secret is not in the body in any form."""
    response = await h.api.get(f"/admin/projects/{h.project_id}", headers=ADMIN)

    assert 200 == response.status_code
    body = response.json()
    assert {"id", "name", "webhookUrl"} == set(body)
    assert h.project_id == body["id"]
    assert body["webhookUrl"].endswith("/webhooks")
    assert h.receiver.secret not in response.text
    assert "whsec_" not in response.text


async def test_set_webhook_generates_a_secret_and_shows_it_once(h):
    """Without a secret one is generated, stored encrypted, answered once, never shown again."""
    use_dns(h, FakeDNS(hooks_example_com=["93.184.216.34"]))

    response = await h.api.put(
        f"/admin/projects/{h.project_id}/webhook",
        headers=ADMIN,
        json={"url": "https://hooks.example.com/in"},
    )
    again = await h.api.get(f"/admin/projects/{h.project_id}", headers=ADMIN)

    assert 200 == response.status_code, response.text
    body = response.json()
    secret = body["webhookSecret"]
    assert secret.startswith("whsec_")
    assert "https://hooks.example.com/in" == body["webhookUrl"]
    project = await h.runtime.store.get_project(h.project_id)
    assert project is not None
    assert project.webhook_secret_enc is not None
    assert secret == h.runtime.box.decrypt(project.webhook_secret_enc)
    assert secret not in project.webhook_secret_enc
    assert "https://hooks.example.com/in" == again.json()["webhookUrl"]
    assert secret not in again.text


async def test_set_webhook_keeps_a_given_secret(h):
    """A valid whsec_ secret given in the body is the one stored and answered."""
    secret = h.receiver.secret
    response = await h.api.put(
        f"/admin/projects/{h.project_id}/webhook",
        headers=ADMIN,
        json={"url": "https://93.184.216.34/in", "secret": secret},
    )

    assert 200 == response.status_code, response.text
    assert secret == response.json()["webhookSecret"]


@pytest.mark.parametrize(
    "secret",
    ["not-a-whsec-secret-at-all-123", "whsec_" + "A" * 8, "whsec_!!!not-base64!!!"],
    ids=["no-prefix", "too-short", "not-base64"],
)
async def test_set_webhook_refuses_a_malformed_secret_without_echoing_it(h, secret):
    """A bad secret is 422 naming the field and the expected format, and is not repeated."""
    response = await h.api.put(
        f"/admin/projects/{h.project_id}/webhook",
        headers=ADMIN,
        json={"url": "https://93.184.216.34/in", "secret": secret},
    )

    assert 422 == response.status_code
    assert "INVALID_WEBHOOK_SECRET" == response.json()["code"]
    assert "secret" == response.json()["field"]
    assert "whsec_" in response.json()["message"]
    assert secret not in response.text


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/in", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://10.0.0.5/in", "private"),
        ("http://[::ffff:192.168.0.1]/in", "private"),
        ("http://localhost:9000/in", "loopback"),
        ("https://rebind.example/in", "private"),
        ("https://nowhere.example/in", "cannot be resolved"),
    ],
)
async def test_set_webhook_refuses_private_destinations(h, url, reason):
    """URLs reaching loopback, link-local (metadata), private or unresolvable hosts are 422 with
    the reason and the setting that would allow them; the project keeps its old URL."""
    use_dns(h, FakeDNS(localhost=["127.0.0.1"], rebind_example=["93.184.216.34", "10.1.1.1"]))
    before = await h.runtime.store.get_project(h.project_id)

    response = await h.api.put(
        f"/admin/projects/{h.project_id}/webhook", headers=ADMIN, json={"url": url}
    )

    assert 422 == response.status_code
    body = response.json()
    assert ("WEBHOOK_URL_REFUSED", "url") == (body["code"], body["field"])
    assert reason in body["message"]
    if reason != "cannot be resolved":
        assert "SYNCLINE_ALLOW_PRIVATE_WEBHOOKS=true" in body["message"]
    assert before == await h.runtime.store.get_project(h.project_id)


async def test_operator_may_allow_private_destinations(database_url, tmp_path):
    """With SYNCLINE_ALLOW_PRIVATE_WEBHOOKS the admin API accepts a loopback receiver, and
    deliveries reach it."""
    async with harness(
        database_url, tmp_path, admin_token=ADMIN_TOKEN, allow_private_webhooks=True
    ) as h:
        url = h.runtime.settings.webhook_url
        assert url is not None
        response = await h.api.put(
            f"/admin/projects/{h.project_id}/webhook",
            headers=ADMIN,
            json={"url": url.replace("/webhooks", "/other"), "secret": h.receiver.secret},
        )
        await h.connect()
        await h.enable()
        await h.settle()

        assert 200 == response.status_code, response.text
        assert ["/other"] == [d["path"] for d in h.receiver.deliveries]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "url"),
        ({"url": ""}, 422, "url"),
        ({"url": 5}, 422, "url"),
        ({"url": "ftp://93.184.216.34/x"}, 422, "url"),
        ({"url": "https://u:p@93.184.216.34/x"}, 422, "url"),
        ({"url": "https://93.184.216.34/x", "secret": ""}, 422, "secret"),
        ([], 400, None),
    ],
)
async def test_set_webhook_refuses_bad_bodies(h, body, status, field):
    """Missing, empty, mistyped or non-http URLs and empty secrets are rejected with the field."""
    response = await h.api.put(f"/admin/projects/{h.project_id}/webhook", headers=ADMIN, json=body)

    assert status == response.status_code, response.text
    assert field == response.json().get("field")


async def test_unknown_projects_are_404(h):
    """GET, PUT and DELETE on a project that does not exist answer 404 PROJECT_NOT_FOUND."""
    missing = str(uuid.uuid4())
    answers = [
        await h.api.get(f"/admin/projects/{missing}", headers=ADMIN),
        await h.api.put(
            f"/admin/projects/{missing}/webhook",
            headers=ADMIN,
            json={"url": "https://93.184.216.34/in"},
        ),
        await h.api.delete(f"/admin/projects/{missing}/webhook", headers=ADMIN),
    ]

    assert [404] * 3 == [r.status_code for r in answers]
    assert {"PROJECT_NOT_FOUND"} == {r.json()["code"] for r in answers}
    assert None is await h.runtime.store.get_project(missing)


async def test_delete_webhook_holds_events_until_a_url_is_set_again(h):
    """After DELETE the project has no endpoint: its events are kept (held, and the event log
    says so), not sent and not lost; once a URL is set again they are delivered in order."""
    response = await h.api.delete(f"/admin/projects/{h.project_id}/webhook", headers=ADMIN)
    h.drive.add_file("a.txt")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    h.drive.add_file("b.txt")
    await h.trigger(sync["id"])
    await h.settle()
    events = (await h.api.get(f"/api/syncs/{sync['id']}/events", headers=h.auth())).json()
    held = [e for e in events["data"] if e["syncEvent"] == "WEBHOOK_DELIVERY_HELD"]
    project = await h.runtime.store.get_project(h.project_id)
    assert project is not None
    nothing_sent = list(h.receiver.deliveries)

    allow = DestinationPolicy(allow_private=True)
    services = h.runtime.app.state.services
    assert services.admin is not None
    h.runtime.app.state.services = replace(
        services, admin=replace(services.admin, destinations=allow)
    )
    put = await h.api.put(
        f"/admin/projects/{h.project_id}/webhook",
        headers=ADMIN,
        json={"url": f"{h.receiver_server.url}/webhooks", "secret": h.receiver.secret},
    )
    await h.deliver()

    assert 200 == response.status_code
    assert None is response.json()["webhookUrl"]
    assert (None, None) == (project.webhook_url, project.webhook_secret_enc)
    assert [] == nothing_sent
    assert 2 == len(held)  # one per claimed batch: the sync_complete, then the record_created
    assert "no webhook URL" in held[-1]["error"]["message"]
    assert 200 == put.status_code, put.text
    assert ["sync_complete", "record_created"] == [e["event"] for e in h.receiver.events()]


async def test_delivery_refuses_a_destination_that_rebinds_to_loopback(h):
    """A URL accepted while its host was public is re-checked before each POST: once the host
    resolves to loopback the delivery fails without any request, is logged in the event log
    and retried; when the host is public again the retry goes to the checked address."""
    dns = FakeDNS(hooks_example_com=["93.184.216.34"])
    use_dns(h, dns)
    put = await h.api.put(
        f"/admin/projects/{h.project_id}/webhook",
        headers=ADMIN,
        json={"url": "http://hooks.example.com/in?tenant=7"},
    )
    assert 200 == put.status_code, put.text
    secret = put.json()["webhookSecret"]
    await h.connect()
    sync = await h.enable()
    await h.run_due()  # the initial sync's sync_complete waits in the outbox
    sent: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    runtime = h.runtime
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        dispatcher = Dispatcher(
            runtime.store, http, runtime.box, h.clock, destinations=DestinationPolicy(resolve=dns)
        )
        dns.answers["hooks.example.com"] = ["127.0.0.1"]
        refused = await dispatcher.tick()
        events = (await h.api.get(f"/api/syncs/{sync['id']}/events", headers=h.auth())).json()[
            "data"
        ]
        dns.answers["hooks.example.com"] = ["93.184.216.34"]
        h.clock.advance(minutes=5)
        retried = await dispatcher.tick()

    assert (1, 1) == (refused, retried)
    failed = [e for e in events if e["syncEvent"] == "WEBHOOK_DELIVERY_FAILED"]
    assert 1 == len(failed)
    message = failed[0]["error"]["message"]
    assert "destination refused" in message
    assert "resolves to 127.0.0.1, a loopback address" in message
    assert 1 == len(sent)
    request = sent[0]
    assert "http://93.184.216.34/in?tenant=7" == str(request.url)
    assert "hooks.example.com" == request.headers["host"]
    verify(secret, dict(request.headers), request.content, now=h.clock())
    assert "sync_complete" == json.loads(request.content)["event"]
    assert [] == h.receiver.deliveries

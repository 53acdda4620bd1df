"""The test webhook receiver records, verifies and refuses deliveries as its knobs say."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from syncline.errors import ConfigError
from syncline.webhooks import generate_secret, headers
from tests.support.receiver import Receiver, create_receiver

SECRET = generate_secret()


def event(event_id: str, name: str = "record_created") -> bytes:
    return json.dumps({"id": event_id, "event": name, "user": {"id": "u1"}}).encode()


@pytest.fixture
def receiver() -> Receiver:
    return create_receiver(SECRET)


@pytest.fixture
async def client(receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=receiver.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        yield client


async def post(client: httpx.AsyncClient, event_id: str, *, signed: bool = True) -> int:
    body = event(event_id)
    signature = headers(SECRET, event_id, int(time.time()), body) if signed else {}
    response = await client.post(
        "/hooks", content=body, headers={"content-type": "application/json", **signature}
    )
    return response.status_code


async def test_signed_delivery_is_accepted_and_unsigned_is_recorded_unverified(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """A signed POST is accepted (204); an unsigned one is answered 400 and kept as unverified."""
    expected = {
        "answers": [204, 400],
        "recorded": [
            ("/hooks", "evt_1", "evt_1", True, 204),
            ("/hooks", "evt_2", None, False, 400),
        ],
        "events": [json.loads(event("evt_1"))],
        "unique_ids": {"evt_1"},
    }

    answers = [await post(client, "evt_1"), await post(client, "evt_2", signed=False)]

    assert expected == {
        "answers": answers,
        "recorded": [
            (d["path"], d["body"]["id"], d["headers"].get("webhook-id"), d["verified"], d["status"])
            for d in receiver.deliveries
        ],
        "events": receiver.events(),
        "unique_ids": receiver.unique_ids(),
    }


async def test_knobs_refuse_deliveries_without_accepting_them(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """`down` answers 503 and `fail_next` its status n times; neither counts as accepted."""
    expected = {
        "answers": [503, 502, 502, 204, 204],
        "record_created": 2,
        "sync_complete": 0,
        "unique_ids": {"evt_1"},
    }

    receiver.down = True
    answers = [await post(client, "evt_1")]
    receiver.down = False
    receiver.fail_next(2, status=502)
    answers += [await post(client, "evt_1") for _ in range(4)]

    assert expected == {
        "answers": answers,
        "record_created": len(receiver.events("record_created")),
        "sync_complete": len(receiver.events("sync_complete")),
        "unique_ids": receiver.unique_ids(),
    }


async def test_wait_for_returns_once_the_condition_holds(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """`wait_for` returns when the predicate holds and fails with what was received otherwise."""
    await post(client, "evt_1")

    await receiver.wait_for(lambda: len(receiver.events()) == 1, timeout=1)
    with pytest.raises(AssertionError, match="record_created"):
        await receiver.wait_for(lambda: len(receiver.events()) == 2, timeout=0.05)
    with pytest.raises(AssertionError, match="within"):
        receiver.wait_until(lambda: False, timeout=0.05)


def test_malformed_secret_fails_at_creation() -> None:
    """A receiver built with a malformed secret fails at once, not on its first delivery."""
    with pytest.raises(ConfigError):
        create_receiver("whsec_short")

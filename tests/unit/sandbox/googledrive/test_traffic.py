"""The sandbox's run tracking: spans per caller and run id, and the doubled runs among them."""

from __future__ import annotations

import asyncio
import time

import httpx

from syncline.sandbox import DriveState, create_drive_app
from syncline.sandbox.kit.traffic import Traffic, run_id_of


def _request(traffic: Traffic, caller: str | None, run: str | None) -> int:
    agent = f"syncline/1.0 (run {run})" if run else "syncline/1.0"
    return traffic.begin("GET", "/drive/v3/files", {}, caller=caller, user_agent=agent)


def test_run_id_is_read_from_the_user_agent():
    """Only Syncline's `(run <id>)` suffix names a run."""
    assert "abc-1" == run_id_of("syncline/0.1.0 (run abc-1)")
    assert run_id_of("syncline/0.1.0") is None
    assert run_id_of(None) is None


def test_runs_one_after_another_are_not_doubled():
    """A run that starts after the previous run's last answer overlaps nothing."""
    traffic = Traffic()
    traffic.end(_request(traffic, "alice", "r1"))
    time.sleep(0.001)
    traffic.end(_request(traffic, "alice", "r2"))

    assert [] == traffic.overlapping_runs()
    assert {"r1", "r2"} == {span.run_id for span in traffic.run_spans()}


def test_two_runs_of_one_caller_in_flight_together_are_doubled():
    """A second run's request while the first run's request is unanswered is a doubled run,
    even if the first run's span ends later; other callers and untagged requests never are."""
    traffic = Traffic()
    first = _request(traffic, "alice", "r1")
    traffic.end(_request(traffic, "alice", "r2"))
    traffic.end(_request(traffic, "bob", "r3"))
    traffic.end(_request(traffic, None, "r4"))
    traffic.end(_request(traffic, "alice", None))

    pairs = traffic.overlapping_runs()
    traffic.end(first)

    assert [("r1", "r2")] == [(a.run_id, b.run_id) for a, b in pairs]
    assert [("r1", "r2")] == [(a.run_id, b.run_id) for a, b in traffic.overlapping_runs()]


def test_the_drive_app_names_the_caller_by_its_token():
    """Requests through the Drive app count towards the run of the token's user."""
    state = DriveState()
    access, _ = state.issue_tokens("carol@example.com")
    transport = httpx.ASGITransport(app=create_drive_app(state))

    async def call() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://drive") as client:
            headers = {"Authorization": f"Bearer {access}", "User-Agent": "syncline/1 (run x9)"}
            await client.get("/drive/v3/about", params={"fields": "user"}, headers=headers)

    asyncio.run(call())

    assert [("carol@example.com", "x9", 1)] == [
        (s.caller, s.run_id, s.requests) for s in state.traffic.run_spans()
    ]

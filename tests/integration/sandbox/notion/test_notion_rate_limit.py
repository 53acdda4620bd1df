"""The sandbox Notion's request-rate limit over real HTTP: off by default, then 429
`rate_limited` with `Retry-After` in whole seconds for a client faster than its budget, never for
one that paces itself; per integration, and switched by a control route."""

from __future__ import annotations

import itertools
import time

import httpx

from syncline.sandbox import BackgroundServer
from syncline.sandbox.notion import NotionState, RateLimit, create_notion_app
from tests.integration.sandbox.notion.conftest import Clock, client


def test_the_limit_is_off_by_default(api):
    """Without `set_rate_limit`, 30 requests in a row all succeed."""
    assert {200} == {api.get("/v1/users/me").status_code for _ in range(30)}


def test_a_burst_beyond_the_budget_is_429_with_retry_after():
    """With 3 requests per second and a burst of 3, the 4th request at once is 429
    `rate_limited` with `Retry-After: 1`; a second later one more goes through; the refusals
    are counted per integration."""
    ticks = Clock(100.0)
    state = NotionState(monotonic=ticks)
    state.set_rate_limit(RateLimit(rate=3.0, burst=3.0))
    token, _ = state.issue_tokens()
    with BackgroundServer(create_notion_app(state)) as server, client(server, token) as http:
        burst = [http.get("/v1/users/me") for _ in range(4)]
        ticks.advance(1.0)
        later = [http.get("/v1/users/me") for _ in range(4)]

    assert [200, 200, 200, 429] == [a.status_code for a in burst]
    refused = burst[-1]
    assert "1" == refused.headers["retry-after"]
    assert ("rate_limited", 429) == (refused.json()["code"], refused.json()["status"])
    assert [200, 200, 200, 429] == [a.status_code for a in later]
    assert 2 == state.limiter.refused[state.bot]


def test_a_long_wait_says_so_in_whole_seconds():
    """With a budget of one request per 60-second window (`RateLimit.per_window`), the second
    request is told to wait the whole window: `Retry-After: 60`."""
    ticks = Clock(0.0)
    state = NotionState(monotonic=ticks)
    state.set_rate_limit(RateLimit.per_window(1, window=60.0))
    token, _ = state.issue_tokens()
    with BackgroundServer(create_notion_app(state)) as server, client(server, token) as http:
        http.get("/v1/users/me")
        refused = http.get("/v1/users/me")

    assert (429, "60") == (refused.status_code, refused.headers["retry-after"])


def test_each_integration_has_its_own_budget():
    """One integration exhausting its budget does not throttle another."""
    ticks = Clock(0.0)
    state = NotionState(monotonic=ticks)
    other = state.add_bot("Other")
    state.set_rate_limit(RateLimit(rate=1.0, burst=1.0))
    mine, _ = state.issue_tokens()
    theirs, _ = state.issue_tokens(other)
    with (
        BackgroundServer(create_notion_app(state)) as server,
        client(server, mine) as me,
        client(server, theirs) as them,
    ):
        assert [200, 429] == [me.get("/v1/users/me").status_code for _ in range(2)]
        assert 200 == them.get("/v1/users/me").status_code


def test_a_client_that_paces_itself_and_honours_retry_after_is_never_refused_twice():
    """In real time at 3 requests per second: a client sending 7 requests 0.34 s apart gets
    no 429; a client firing 7 at once and then sleeping `Retry-After` on each 429 gets every
    answer, and is never refused twice in a row."""
    state = NotionState()
    state.set_rate_limit(RateLimit(rate=3.0, burst=3.0))
    token, _ = state.issue_tokens()
    with BackgroundServer(create_notion_app(state)) as server, client(server, token) as http:
        paced = []
        for _ in range(7):
            paced.append(http.get("/v1/users/me").status_code)
            time.sleep(0.34)
        state.set_rate_limit(RateLimit(rate=3.0, burst=3.0))
        greedy: list[int] = []
        done = 0
        while done < 7:
            answer = http.get("/v1/users/me")
            greedy.append(answer.status_code)
            if answer.status_code == 429:
                time.sleep(float(answer.headers["retry-after"]))
            else:
                done += 1

    assert {200} == set(paced)
    assert 429 in greedy
    assert all(not (a == b == 429) for a, b in itertools.pairwise(greedy))


def test_the_control_route_switches_the_limit(notion, notion_server, api):
    """`PUT /_notion/rate_limit` with `{rate, burst}` turns the limit on, `null` off; the
    control routes themselves are never limited."""
    control = httpx.Client(base_url=notion_server.url, timeout=5)
    on = control.put("/_notion/rate_limit", json={"rate": 0.5, "burst": 1})
    limited = [api.get("/v1/users/me").status_code for _ in range(2)]
    shown = control.get("/_notion/rate_limit").json()
    off = control.put("/_notion/rate_limit", content=b"null")
    free = [api.get("/v1/users/me").status_code for _ in range(5)]
    control.close()

    assert ({"rate": 0.5, "burst": 1.0}, [200, 429]) == (on.json(), limited)
    assert {"rate": 0.5, "burst": 1.0} == shown
    assert (None, {200}) == (off.json(), set(free))

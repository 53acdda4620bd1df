"""The sandbox Confluence served over real HTTP, with the sample site, for its own integration
tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from syncline.sandbox import BackgroundServer
from syncline.sandbox.confluence import (
    ConfluenceState,
    SiteSamples,
    create_confluence_app,
    populate,
)

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
DAVE = "dave@partner.example"

START = 1_714_557_600.0
"""2024-05-01 10:00:00 UTC (20:00 in Sydney, the site's zone)."""


class Clock:
    """A settable clock for the state and its OAuth server."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def site(clock: Clock) -> ConfluenceState:
    return ConfluenceState(clock=clock)


@pytest.fixture
def samples(site: ConfluenceState) -> SiteSamples:
    return populate(site)


@pytest.fixture
def server(site: ConfluenceState) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_confluence_app(site)) as running:
        yield running


Client = Callable[..., httpx.Client]


@pytest.fixture
def client(site: ConfluenceState, server: BackgroundServer) -> Iterator[Client]:
    """`client(email, scopes=...)`: an httpx client for that user, its base URL the site's
    `/wiki` through the gateway (`{origin}/ex/confluence/{cloudId}/wiki`)."""
    opened: list[httpx.Client] = []

    def make(email: str = ALICE, **kwargs: object) -> httpx.Client:
        access, _ = site.issue_tokens(email, **kwargs)  # type: ignore[arg-type]
        http = httpx.Client(
            base_url=f"{server.url}/ex/confluence/{site.cloud_id}/wiki",
            headers={"Authorization": f"Bearer {access}"},
            timeout=10,
        )
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def alice(samples: SiteSamples, client: Client) -> httpx.Client:
    return client(ALICE)


@pytest.fixture
def bob(samples: SiteSamples, client: Client) -> httpx.Client:
    return client(BOB)


@pytest.fixture
def carol(samples: SiteSamples, client: Client) -> httpx.Client:
    return client(CAROL)


def follow(
    http: httpx.Client, url: str, **params: str | int
) -> tuple[list[dict], list[httpx.Response]]:
    """Every result of a v2 listing, following `_links.next` (relative to the site's origin,
    so the gateway's `/ex/confluence/{cloudId}` prefix is the client's to add)."""
    results: list[dict] = []
    answers: list[httpx.Response] = []
    answer = http.get(url, params=params) if params else http.get(url)
    while True:
        answer.raise_for_status()
        answers.append(answer)
        body = answer.json()
        results += body["results"]
        following = body["_links"].get("next")
        if following is None:
            return results, answers
        assert following.startswith("/wiki/")
        answer = http.get(following.removeprefix("/wiki"))

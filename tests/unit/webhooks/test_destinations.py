"""Webhook destinations: which addresses are refused, URL checks, and delivery-time pinning.

Name resolution is always a fake: no test here reaches DNS or the network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

import pytest

from syncline.webhooks.destinations import (
    ALLOW_SETTING,
    DestinationPolicy,
    DestinationRefused,
    Target,
    address_refusal,
    parse_url,
)


class FakeResolver:
    """Knows only `answers`; any other name fails as an unknown host would. Records questions."""

    def __init__(self, answers: Mapping[str, Sequence[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str) -> Sequence[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return self.answers[host]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("fec0::1", "site-local"),
    ],
)
def test_non_public_addresses_are_refused_with_their_kind(address, reason):
    """Every loopback, private, link-local, multicast, unspecified, reserved, CGNAT or
    IPv4-mapped form of them is refused, and the reason names the kind of address."""
    refusal = address_refusal(ipaddress.ip_address(address))

    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_accepted(address):
    """Globally routable addresses, IPv4 or IPv6 (mapped or not), are fine destinations."""
    assert None is address_refusal(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("ftp://hooks.example.com/x", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("hooks.example.com/x", "http:// or https://"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https://token@hooks.example.com/x", "user name or password"),
        ("http:///x", "no host"),
        ("https://hooks.example.com/" + "a" * 2100, "longer than"),
    ],
)
def test_malformed_urls_are_refused(url, complaint):
    """Only http(s) URLs with a host and without credentials are webhook URLs."""
    with pytest.raises(DestinationRefused, match=complaint):
        parse_url(url)


async def test_check_refuses_a_host_when_any_address_is_private():
    """One private address among public ones is enough: the client might connect to it."""
    resolve = FakeResolver({"hooks.example.com": ["93.184.216.34", "10.0.0.7"]})
    policy = DestinationPolicy(resolve=resolve)

    with pytest.raises(DestinationRefused) as refused:
        await policy.check("https://hooks.example.com/in")

    message = str(refused.value)
    assert "hooks.example.com resolves to 10.0.0.7, a private address" in message
    assert f"{ALLOW_SETTING}=true" in message


async def test_check_refuses_an_unresolvable_host():
    """A name that does not resolve cannot be judged, so it is refused."""
    policy = DestinationPolicy(resolve=FakeResolver({}))

    with pytest.raises(DestinationRefused, match="cannot be resolved"):
        await policy.check("https://nowhere.example/in")


async def test_check_refuses_a_host_that_resolves_to_nothing():
    """An empty answer is treated like a failed lookup."""
    policy = DestinationPolicy(resolve=FakeResolver({"empty.example": []}))

    with pytest.raises(DestinationRefused, match="cannot be resolved"):
        await policy.check("https://empty.example/in")


async def test_check_judges_ip_literals_without_resolving():
    """An IP literal host is judged as it is; the resolver is not asked."""
    resolve = FakeResolver({})
    policy = DestinationPolicy(resolve=resolve)

    with pytest.raises(DestinationRefused, match=r"host 169\.254\.169\.254 is the cloud metadata"):
        await policy.check("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(DestinationRefused, match="host ::1 is a loopback address"):
        await policy.check("http://[::1]:8080/x")
    assert [] == resolve.asked


async def test_check_catches_odd_ipv4_spellings_through_the_resolver():
    """Hosts like `2130706433` or `0x7f.1` are names to the URL parser but 127.0.0.1 to the
    system resolver; the check judges what the resolver answers."""
    policy = DestinationPolicy(resolve=FakeResolver({"2130706433": ["127.0.0.1"]}))

    with pytest.raises(DestinationRefused, match=r"resolves to 127\.0\.0\.1, a loopback address"):
        await policy.check("http://2130706433/")


async def test_check_accepts_a_public_host():
    """A host whose every address is public is accepted, and the parsed URL returned."""
    policy = DestinationPolicy(resolve=FakeResolver({"hooks.example.com": ["93.184.216.34"]}))

    parsed = await policy.check("https://hooks.example.com/in?x=1")

    assert "hooks.example.com" == parsed.host


async def test_allowing_private_destinations_skips_resolution():
    """With the operator's permission, private and unresolvable hosts are accepted; the URL
    must still be well formed."""
    resolve = FakeResolver({})
    policy = DestinationPolicy(allow_private=True, resolve=resolve)

    await policy.check("http://127.0.0.1:9000/hooks")
    await policy.check("http://receiver.internal/hooks")
    with pytest.raises(DestinationRefused):
        await policy.check("gopher://127.0.0.1/")
    assert [] == resolve.asked


async def test_target_pins_plain_http_to_the_checked_address():
    """A plain-HTTP delivery goes to the address that was checked, with the original Host, so
    a DNS answer that changes before the connection cannot redirect it."""
    policy = DestinationPolicy(resolve=FakeResolver({"hooks.example.com": ["93.184.216.34"]}))

    target = await policy.target("http://hooks.example.com:8080/in?key=v")

    assert Target("http://93.184.216.34:8080/in?key=v", {"host": "hooks.example.com:8080"}) == (
        target
    )


async def test_target_keeps_https_urls_unpinned():
    """HTTPS keeps its host name (the certificate check needs it) after the address check."""
    resolve = FakeResolver({"hooks.example.com": ["2001:4860:4860::8888"]})
    policy = DestinationPolicy(resolve=resolve)

    assert Target("https://hooks.example.com/in") == await policy.target(
        "https://hooks.example.com/in"
    )
    assert ["hooks.example.com"] == resolve.asked


async def test_target_refuses_a_host_that_now_resolves_privately():
    """DNS rebinding: a host accepted while public is refused once it resolves to loopback."""
    answers = {"hooks.example.com": ["93.184.216.34"]}
    policy = DestinationPolicy(resolve=FakeResolver(answers))
    await policy.check("http://hooks.example.com/in")
    answers["hooks.example.com"] = ["127.0.0.1"]

    with pytest.raises(DestinationRefused, match="loopback"):
        await policy.target("http://hooks.example.com/in")


async def test_trusted_and_allowed_urls_are_not_checked_at_delivery():
    """The operator's own URL, or any URL once private destinations are allowed, is sent as is
    without a lookup."""
    resolve = FakeResolver({})
    trusted = DestinationPolicy(trusted=frozenset({"http://127.0.0.1:9000/hooks"}), resolve=resolve)
    allowed = DestinationPolicy(allow_private=True, resolve=resolve)

    assert Target("http://127.0.0.1:9000/hooks") == await trusted.target(
        "http://127.0.0.1:9000/hooks"
    )
    assert Target("http://localhost:9000/x") == await allowed.target("http://localhost:9000/x")
    assert trusted.guards("http://127.0.0.1:9000/other")  # only the exact URL is trusted
    assert [] == resolve.asked

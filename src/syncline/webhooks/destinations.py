"""Where webhooks may be sent: refuses destinations inside the operator's own network (SSRF).

A webhook URL set through the admin API may come from a tenant. Without this check it could
point Syncline's POSTs at `127.0.0.1`, the cloud metadata service at `169.254.169.254` or any
private address the server can reach. `DestinationPolicy.check` validates a URL when it is set;
`DestinationPolicy.target` checks it again before each delivery, because DNS can change after the
URL was accepted, and pins plain-HTTP deliveries to the address it checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import httpx

__all__ = [
    "ALLOW_SETTING",
    "DestinationPolicy",
    "DestinationRefused",
    "Resolver",
    "Target",
    "address_refusal",
    "parse_url",
    "system_resolver",
]

ALLOW_SETTING: Final = "SYNCLINE_ALLOW_PRIVATE_WEBHOOKS"
"""The setting that lets an operator accept private, loopback and link-local destinations."""

MAX_URL_LENGTH: Final = 2048
RESOLVE_TIMEOUT: Final = 5.0

Resolver = Callable[[str], Awaitable[Sequence[str]]]
"""Resolves a host name to its IP addresses (as text); raises `OSError` when it cannot."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT: Final = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA: Final = ipaddress.IPv4Address("169.254.169.254")


class DestinationRefused(ValueError):
    """A webhook URL is not an acceptable destination; the message says why."""


async def system_resolver(host: str) -> list[str]:
    """The host's addresses from the system resolver (getaddrinfo runs in a worker thread)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_url(url: str) -> httpx.URL:
    """The URL, parsed as the HTTP client will parse it, if it is a usable webhook URL.

    Raises:
        DestinationRefused: not http(s), carries a user name or password, or has no host.
    """
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRefused(f"the webhook URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DestinationRefused("the webhook URL is not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise DestinationRefused("the webhook URL must start with http:// or https://")
    if parsed.userinfo:
        raise DestinationRefused(
            "the webhook URL must not carry a user name or password; "
            "deliveries are authenticated by their signature"
        )
    if not parsed.host:
        raise DestinationRefused("the webhook URL has no host")
    return parsed


def address_refusal(address: IPAddress) -> str | None:
    """Why a delivery must not go to `address` (e.g. "a loopback address"); None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            reason = address_refusal(address.ipv4_mapped)
            return None if reason is None else f"{reason} (IPv4-mapped)"
        # 6to4, NAT64 and Teredo addresses lead to an IPv4 address: judge that one too.
        embedded = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and (reason := address_refusal(embedded)) is not None:
            return f"{reason} (embedded in an IPv6 address)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address == _METADATA:
        return "the cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not globally routable"
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """Where one delivery actually goes: the URL to connect to, and headers to add."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """Which webhook destinations are acceptable.

    Args:
        allow_private: accept every destination (`SYNCLINE_ALLOW_PRIVATE_WEBHOOKS`).
        trusted: URLs the operator configured themselves (`SYNCLINE_WEBHOOK_URL`); deliveries to
            exactly these are not checked. The admin API checks every URL it is given.
        resolve: name resolution; tests inject a fake, so none reaches the network.
    """

    allow_private: bool = False
    trusted: frozenset[str] = frozenset()
    resolve: Resolver = system_resolver

    async def check(self, url: str) -> httpx.URL:
        """The parsed URL, if webhooks may be sent to it (set-time check).

        Raises:
            DestinationRefused: the URL is malformed, or (unless private destinations are
                allowed) its host cannot be resolved or any of its addresses is not public.
        """
        parsed = parse_url(url)
        if not self.allow_private:
            await self._public_addresses(parsed.host)
        return parsed

    def guards(self, url: str) -> bool:
        """Whether deliveries to `url` are checked before each POST."""
        return not self.allow_private and url not in self.trusted

    async def target(self, url: str) -> Target:
        """Where to send a delivery to `url`, checked again now (delivery-time check).

        A plain-HTTP delivery is sent to the checked address itself (with the original `Host`),
        so a DNS answer that changes between this check and the connection cannot redirect it.
        HTTPS needs no pinning: a server on another address cannot present a certificate for
        the URL's host, so the TLS handshake fails before anything is sent.

        Raises:
            DestinationRefused: as `check`.
        """
        if not self.guards(url):
            return Target(url)
        parsed = parse_url(url)
        addresses = await self._public_addresses(parsed.host)
        if parsed.scheme == "https":
            return Target(url)
        pinned = parsed.copy_with(host=str(addresses[0]))
        return Target(str(pinned), {"host": parsed.netloc.decode("ascii")})

    async def _public_addresses(self, host: str) -> list[IPAddress]:
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await self._resolved(host)
        for address in addresses:
            reason = address_refusal(address)
            if reason is not None:
                what = (
                    f"is {reason}" if str(address) == host else f"resolves to {address}, {reason}"
                )
                raise DestinationRefused(
                    f"the webhook host {host} {what}; set {ALLOW_SETTING}=true to allow "
                    "private, loopback and link-local destinations"
                )
        return addresses

    async def _resolved(self, host: str) -> list[IPAddress]:
        try:
            answers = await self.resolve(host)
        except (OSError, TimeoutError, UnicodeError) as exc:
            raise DestinationRefused(f"the webhook host {host} cannot be resolved") from exc
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer))
            except ValueError as exc:
                raise DestinationRefused(
                    f"the webhook host {host} resolves to an unreadable address"
                ) from exc
        if not addresses:
            raise DestinationRefused(f"the webhook host {host} cannot be resolved")
        return addresses

"""Which addresses Herald may fetch media from: public unicast ones only (ADR 0002).

Python's `ipaddress` flags were wrong for some ranges before 3.12.4 (CVE-2024-4032) and treat
IPv4-mapped IPv6 inconsistently, so the special-purpose ranges are listed here explicitly (IANA
special-purpose registries, plus cloud metadata addresses), and `is_global` is only a backstop.
Addresses that embed an IPv4 address (6to4, NAT64) are judged by the embedded one too.
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_BLOCKED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT (shared)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata)"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_V6_BLOCKED: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("::/96", "IPv4-compatible"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments (Teredo, ORCHIDv2)"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fc00::/7", "unique-local (incl. cloud metadata fd00:ec2::254)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_V4_NETS = [(ipaddress.IPv4Network(net), why) for net, why in _V4_BLOCKED]
_V6_NETS = [(ipaddress.IPv6Network(net), why) for net, why in _V6_BLOCKED]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.IPv6Network("2002::/16")

# Names that never mean a public host, whatever a resolver answers.
_BLOCKED_NAMES = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "instance-data", "kubernetes"}
)
_BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")


def forbidden_reason(address: IPAddress) -> str | None:
    """Why `address` must not be fetched from, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv4Address):
        for net, why in _V4_NETS:
            if address in net:
                return why
        return None if address.is_global else "not globally routable"
    for net6, why in _V6_NETS:
        if address in net6:
            return why
    embedded = _embedded_v4(address)
    if embedded is not None:
        inner = forbidden_reason(embedded)
        if inner is not None:
            return f"embeds a {inner} IPv4 address"
        return None
    return None if address.is_global else "not globally routable"


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIXTOFOUR:
        return address.sixtofour
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver would accept, or None for a name.

    Besides dotted quads and IPv6 (brackets, zone ids), inet_aton's legacy forms are addresses
    too: decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f000001`, short `127.1`.
    """
    bare = host.strip("[]").rstrip(".")
    bare = bare.split("%", 1)[0]  # an IPv6 zone id (fe80::1%eth0)
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def forbidden_name(host: str) -> str | None:
    """Why a host name (not an address) is refused without asking DNS, or None."""
    name = host.rstrip(".").lower()
    if not name:
        return "an empty host"
    if name in _BLOCKED_NAMES or name.endswith(_BLOCKED_SUFFIXES):
        return "a local or internal host name"
    if "." not in name:
        return "a single-label host name (resolved by local search domains)"
    return None

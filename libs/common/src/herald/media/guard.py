"""The network guard under the media fetcher: check a URL, resolve its host, refuse every
non-public address, and connect only to the very address that was checked (ADR 0002).

The check runs inside the connection pool's network backend, at the moment a socket is opened:
the host is resolved once, every answer must be public, and the socket is opened to that pinned
address (TLS still verifies the certificate against the host name). A DNS answer that changes
between a check and the connection (rebinding) therefore cannot redirect the socket, and the
peer address of the open socket is checked once more.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpcore
import httpx

from herald.media.addresses import IPAddress, forbidden_name, forbidden_reason, literal_address


class Refused(Exception):
    """A URL or address the guard will not connect to; `code` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Unresolvable(Exception):
    """The host name has no address (or DNS did not answer)."""


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (A and AAAA answers alike)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise Unresolvable(f"{host} did not resolve: {exc.strerror}") from exc
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: httpx.URL) -> Origin:
        port = url.port or (443 if url.scheme == "https" else 80)
        return cls(url.scheme, url.host.lower().rstrip("."), port)


# Encoded slash, backslash, dot and NUL: a server may decode them into another path.
_ENCODED_SEPARATORS = ("%2f", "%5c", "%2e", "%00")


@dataclass(frozen=True)
class Trusted:
    """One allow-list entry: an origin and the path prefix trusted on it (ADR 0002). An entry
    without a path (`http://127.0.0.1:8120`) trusts the whole origin, as entries always did;
    `http://127.0.0.1:8120/_sandbox/media/` trusts only what lies under that path."""

    origin: Origin
    prefix: str = "/"

    @classmethod
    def parse(cls, entry: str) -> Trusted:
        """The entry, or `ValueError` saying what is wrong with it."""
        try:
            url = httpx.URL(entry)
        except httpx.InvalidURL as exc:
            msg = f"{entry!r} is not a URL ({exc})"
            raise ValueError(msg) from None
        if url.scheme not in ("http", "https") or not url.host:
            msg = f"{entry!r} must be an http(s) origin, optionally with a path prefix"
            raise ValueError(msg)
        if url.userinfo or url.query or url.fragment or "%" in url.raw_path.decode("ascii"):
            msg = f"{entry!r} must be an origin and a plain path, without credentials or query"
            raise ValueError(msg)
        path = url.path or "/"
        return cls(Origin.of(url), path if path.endswith("/") else f"{path}/")

    @property
    def whole_origin(self) -> bool:
        return self.prefix == "/"

    def __str__(self) -> str:
        port = f":{self.origin.port}"
        return f"{self.origin.scheme}://{self.origin.host}{port}{self.prefix}"


@dataclass(frozen=True)
class Policy:
    """What the guard allows. URLs under a `trusted` entry (e.g.
    `http://127.0.0.1:8120/_sandbox/media/`) are fetched whatever address their host has: the
    sandbox and the demo serve media from loopback. Anything else on a trusted origin is
    refused, so a URL into the sandbox's admin API is never fetched."""

    schemes: frozenset[str] = frozenset({"http", "https"})
    ports: frozenset[int] | None = frozenset({80, 443})
    trusted: frozenset[Trusted] = frozenset()

    @classmethod
    def build(
        cls, schemes: Iterable[str], ports: Iterable[int] | None, entries: Iterable[str]
    ) -> Policy:
        return cls(
            frozenset(s.lower() for s in schemes),
            None if ports is None else frozenset(ports),
            frozenset(Trusted.parse(e) for e in entries),
        )

    def trusts(self, url: httpx.URL) -> bool:
        """Whether `url` lies under a trusted entry; `Refused` when its origin is trusted only
        under other paths (or it spells its path so that a server could read another one)."""
        origin = Origin.of(url)
        entries = [t for t in self.trusted if t.origin == origin]
        if not entries:
            return False
        if any(t.whole_origin for t in entries):
            return True
        path, raw = url.path, url.raw_path.decode("ascii").partition("?")[0].lower()
        plain = not any(s in raw for s in _ENCODED_SEPARATORS) and "\\" not in path
        segments = path.split("/")[1:]
        plain = plain and not any(s in (".", "..") for s in segments) and "//" not in path
        if plain and any(path.startswith(t.prefix) for t in entries):
            return True
        allowed = ", ".join(sorted(str(t) for t in entries))
        msg = f"{origin.scheme}://{origin.host}:{origin.port} is trusted only under {allowed}"
        raise Refused("media_url_outside_prefix", f"{msg}; {path!r} is not")

    def trusts_endpoint(self, host: str, port: int) -> bool:
        """Whether a socket may open to `host:port` without the address checks: the origin of
        some entry (the path was checked by `check_url` before this request was sent)."""
        bare = host.lower().rstrip(".")
        return any(t.origin.host == bare and t.origin.port == port for t in self.trusted)


def check_url(raw: str, policy: Policy) -> httpx.URL:
    """The parsed URL, or `Refused` for anything but a plain http(s) URL of an acceptable host.
    A host that is an address (in any spelling) is judged here; names are judged at connect."""
    if any(ord(c) < 0x21 or c == "\\" for c in raw):
        raise Refused("media_url_invalid", "the URL contains spaces, control characters or '\\'")
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        raise Refused("media_url_invalid", f"the URL cannot be parsed ({exc})") from None
    if url.scheme not in policy.schemes:
        allowed = " or ".join(sorted(policy.schemes))
        raise Refused("media_url_scheme", f"only {allowed} URLs can be fetched, not {url.scheme!r}")
    if not url.host:
        raise Refused("media_url_invalid", "the URL has no host")
    if url.userinfo:
        raise Refused("media_url_credentials", "URLs with a user name or password are refused")
    if policy.trusts(url):
        return url
    origin = Origin.of(url)
    if policy.ports is not None and origin.port not in policy.ports:
        ports = ", ".join(str(p) for p in sorted(policy.ports))
        raise Refused("media_url_port", f"port {origin.port} is not allowed (only {ports})")
    check_host(url.host)
    return url


def check_host(host: str) -> None:
    address = literal_address(host)
    if address is not None:
        check_address(address, host)
        return
    why = forbidden_name(host)
    if why is not None:
        raise Refused("media_url_forbidden_host", f"{host!r} is {why}")


def check_address(address: IPAddress, host: str) -> None:
    why = forbidden_reason(address)
    if why is not None:
        shown = host if host == str(address) else f"{host} ({address})"
        raise Refused("media_url_forbidden_address", f"{shown} is a {why} address")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that resolves, checks and pins before it opens any socket."""

    def __init__(
        self,
        policy: Policy,
        resolver: Resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        trusted = self._policy.trusts_endpoint(host, port)
        pinned = await self._pin(host, port, trusted)
        stream = await self._inner.connect_tcp(pinned, port, timeout, local_address, socket_options)
        if not trusted:
            try:
                self._check_peer(stream, host)
            except BaseException:
                await stream.aclose()  # refused after connecting: the socket must not leak
                raise
        return stream

    async def _pin(self, host: str, port: int, trusted: bool) -> str:
        literal = literal_address(host)
        if literal is not None:
            addresses: Sequence[str] = [str(literal)]
        else:
            if not trusted:
                check_host(host)
            addresses = await self._resolver.resolve(host.rstrip("."), port)
        if not addresses:
            raise Unresolvable(f"{host} has no address")
        if not trusted:
            # One bad answer refuses the host: a mixed answer is how rebinding attacks start.
            for answer in addresses:
                check_address(ipaddress.ip_address(answer.split("%", 1)[0]), host)
        return addresses[0]

    def _check_peer(self, stream: httpcore.AsyncNetworkStream, host: str) -> None:
        peer = stream.get_extra_info("server_addr")
        if isinstance(peer, tuple) and peer:
            check_address(ipaddress.ip_address(str(peer[0]).split("%", 1)[0]), host)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("media_url_invalid", "unix sockets are never used for media")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its error mapping, its HTTP/1.1), on the guarded backend, with no
    proxy from the environment."""

    def __init__(
        self,
        backend: GuardedBackend,
        *,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx offers no public way to choose the network backend; the pool is rebuilt with it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

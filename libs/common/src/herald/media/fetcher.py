"""`MediaFetcher`: download a user's media safely, as a stream (ADR 0002).

    fetcher = MediaFetcher(FetchSettings(allowed_origins=["http://127.0.0.1:8120/_sandbox/media/"]))
    async with fetcher.open(url, max_bytes=50 * MB, offset=0) as media:
        media.size, media.content_type          # from the headers, when the server says
        async for chunk in media.iter_bytes():  # never the whole file at once
            ...

Every failure is a `herald.errors` class: `Permanent` for a URL that is refused (with the rule
it broke and what to do) or media that cannot be used (too large, 4xx), `Transient` for the
network (DNS, connection, timeouts, 5xx). Refusals happen before any connection is opened.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpcore
import httpx

from herald.errors import PlatformError, Transient
from herald.media.errors import classify, refused, status_error, too_large, took_too_long
from herald.media.guard import (
    GuardedBackend,
    GuardedTransport,
    Policy,
    Refused,
    Resolver,
    SystemResolver,
    check_url,
)
from herald.media.settings import FetchSettings

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass
class MediaStream:
    """An open download. `size` is the whole file's size when known; `offset` where this
    stream starts in it (a resumed download)."""

    url: str
    content_type: str | None
    size: int | None
    offset: int
    _response: httpx.Response
    _max_bytes: int
    _deadline: float
    _timeout_s: float
    read: int = 0

    async def iter_bytes(self, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        skip = self.offset if self._response.status_code == 200 else 0
        try:
            async for received in self._response.aiter_bytes(chunk_size):
                dropped = min(skip, len(received))
                chunk, skip = received[dropped:], skip - dropped
                if not chunk:
                    continue
                self.read += len(chunk)
                if self.offset + self.read > self._max_bytes:
                    raise too_large(self.url, self._max_bytes)
                if time.monotonic() > self._deadline:
                    raise took_too_long(self.url, self._timeout_s)
                yield chunk
        except httpx.HTTPError as exc:
            raise classify(exc, self.url) from exc


class MediaFetcher:
    """Fetches media over a guarded transport. Create one per service (it pools connections)
    and close it at shutdown. `resolver` and `connector` exist for tests."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        resolver: Resolver | None = None,
        connector: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.settings = settings
        self.policy = Policy.build(
            settings.allowed_schemes, settings.allowed_ports, settings.allowed_origins
        )
        backend = GuardedBackend(self.policy, resolver or SystemResolver(), connector)
        limits = httpx.Limits(max_connections=settings.max_connections)
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(backend, limits=limits),
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "identity"},
        )

    def check(self, url: str) -> str:
        """The URL, normalised, if its form and literal host pass (no DNS, no connection);
        otherwise `Permanent`."""
        try:
            return str(check_url(url, self.policy))
        except Refused as exc:
            raise refused(exc, url) from None

    @asynccontextmanager
    async def open(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        offset: int = 0,
        timeout_s: float | None = None,
    ) -> AsyncIterator[MediaStream]:
        """Open `url` (from byte `offset`, with a Range request when the server honours it)."""
        limit = min(max_bytes or self.settings.max_bytes, self.settings.max_bytes)
        budget = timeout_s or self.settings.total_timeout_s
        deadline = time.monotonic() + budget
        response = await self._follow(url, offset, deadline, budget)
        try:
            yield self._stream(response, limit, offset, deadline, budget)
        finally:
            await response.aclose()

    async def _follow(
        self, url: str, offset: int, deadline: float, budget: float
    ) -> httpx.Response:
        current = self.check(url)
        for _ in range(self.settings.max_redirects + 1):
            response = await self._send(current, offset, deadline, budget)
            if response.status_code not in _REDIRECTS:
                return response
            await response.aclose()
            location = response.headers.get("location")
            if not location:
                raise status_error(response.status_code, current)
            current = self.check(str(httpx.URL(current).join(location)))
        raise Transient(
            f"the media URL redirected more than {self.settings.max_redirects} times",
            code="media_redirects",
            remediation="Give the file's final address instead of one that redirects.",
        )

    async def _send(self, url: str, offset: int, deadline: float, budget: float) -> httpx.Response:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        request = self._client.build_request("GET", url, headers=headers)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise took_too_long(url, budget)
        request.extensions["timeout"] = httpx.Timeout(
            min(self.settings.read_timeout_s, remaining),
            connect=min(self.settings.connect_timeout_s, remaining),
        ).as_dict()
        try:
            return await self._client.send(request, stream=True)
        except PlatformError:
            raise
        except Exception as exc:
            raise classify(exc, url) from exc

    def _stream(
        self, response: httpx.Response, limit: int, offset: int, deadline: float, budget: float
    ) -> MediaStream:
        url = str(response.request.url)
        if response.status_code not in (200, 206):
            raise status_error(response.status_code, url)
        if response.status_code == 206 and _range_start(response) != offset:
            raise Transient(
                f"the media server answered another range than bytes {offset}-",
                code="media_bad_range",
                remediation="Try again; if it persists, the media server mishandles resumes.",
            )
        size = _total_size(response, offset)
        if size is not None and size > limit:
            raise too_large(url, limit)
        content_type = response.headers.get("content-type")
        kind = content_type.split(";", 1)[0].strip().lower() if content_type else None
        return MediaStream(url, kind, size, offset, response, limit, deadline, budget)

    async def aclose(self) -> None:
        await self._client.aclose()


def _total_size(response: httpx.Response, offset: int) -> int | None:
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _range_start(response: httpx.Response) -> int | None:
    spec = response.headers.get("content-range", "").removeprefix("bytes ").partition("-")[0]
    return int(spec) if spec.isdigit() else None

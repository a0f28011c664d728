"""Fetching media the way the platforms pull it, but only from loopback.

Instagram cURLs `image_url`/`video_url`, Facebook `url`/`file_url`, TikTok `PULL_FROM_URL`
and WhatsApp media `link`s. The sandbox does the same against the machine it runs on and nothing
else, so no test can make it reach the network. Redirects are refused (TikTok treats a 3xx as an
invalid URL); the body is streamed and only counted, its first bytes kept to recognise it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from platform_sandbox.media.synthetic import Sniffed, sniff

HEAD_BYTES = 64 * 1024


class FetchError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # not_loopback, bad_url, unreachable, http_status, too_large


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str
    size: int
    sniffed: Sniffed
    data: bytes | None  # the whole body, only when asked to keep it


def is_loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class MediaFetcher:
    def __init__(self, client: Callable[[], httpx.AsyncClient], *, timeout_s: float) -> None:
        self._client = client
        self._timeout = timeout_s

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        keep: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Fetched:
        if not is_loopback_url(url):
            raise FetchError("not_loopback", f"the sandbox fetches media only from loopback: {url}")
        try:
            async with self._client().stream(
                "GET", url, follow_redirects=False, timeout=self._timeout
            ) as response:
                if response.status_code != 200:
                    raise FetchError("http_status", f"{url} answered {response.status_code}")
                return await _consume(response, url, max_bytes, keep, progress)
        except httpx.HTTPError as exc:
            raise FetchError("unreachable", f"{url}: {type(exc).__name__}") from exc


async def _consume(
    response: httpx.Response,
    url: str,
    max_bytes: int,
    keep: bool,
    progress: Callable[[int], None] | None,
) -> Fetched:
    head = bytearray()
    kept = bytearray()
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError("too_large", f"{url} is larger than {max_bytes} bytes")
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if keep:
            kept += chunk
        if progress is not None:
            progress(size)
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    return Fetched(url, content_type, size, sniff(bytes(head)), bytes(kept) if keep else None)

"""How fetch failures map onto `herald.errors`: the URL or the file is wrong (`Permanent`, with
what to do), or the network is (`Transient`). Messages never carry response bodies, so a
refused fetch cannot be used to probe internal services."""

from __future__ import annotations

import httpx

from herald.errors import Permanent, PlatformError, Transient
from herald.media.guard import Refused, Unresolvable

_FIX_URL = (
    "Use a public http(s) address of the media file (no internal, private or local hosts, "
    "no credentials in the URL), or upload the file to Herald's media storage."
)


def refused(exc: Refused, url: str) -> Permanent:
    return Permanent(
        f"the media URL was refused: {exc.message}",
        code=exc.code,
        remediation=_FIX_URL,
        evidence={"url": _shown(url)},
    )


def too_large(url: str, limit: int) -> Permanent:
    return Permanent(
        f"the media file is larger than the {limit:,} bytes allowed",
        code="media_too_large",
        remediation="Use a smaller file (compress or shorten it).",
        evidence={"url": _shown(url)},
    )


def took_too_long(url: str, budget: float) -> Transient:
    return Transient(
        f"downloading the media took longer than {budget:g} s",
        code="media_timeout",
        remediation="Check that the media server is fast enough; the download is retried.",
        evidence={"url": _shown(url)},
    )


def status_error(status: int, url: str) -> PlatformError:
    if status >= 500 or status in (408, 429):
        return Transient(
            f"the media server answered HTTP {status}",
            code="media_http_status",
            http_status=status,
            evidence={"url": _shown(url)},
        )
    return Permanent(
        f"the media URL answered HTTP {status}, not the file",
        code="media_http_status",
        http_status=status,
        remediation="Check that the media URL is right and publicly readable.",
        evidence={"url": _shown(url)},
    )


def classify(exc: BaseException, url: str) -> PlatformError:
    if isinstance(exc, Refused):
        return refused(exc, url)
    if isinstance(exc, httpx.TimeoutException):
        return _network(f"timed out ({type(exc).__name__})", url, code="media_timeout")
    if isinstance(exc, Unresolvable):
        return _network(str(exc), url, code="media_dns")
    if isinstance(exc, httpx.InvalidURL):
        return refused(Refused("media_url_invalid", str(exc)), url)
    return _network(type(exc).__name__, url)


def _network(detail: str, url: str, code: str = "media_unreachable") -> Transient:
    return Transient(
        f"the media could not be downloaded: {detail}",
        code=code,
        remediation="The download is retried; check that the media server is up.",
        evidence={"url": _shown(url)},
    )


def _shown(url: str) -> str:
    """The URL without its query (signed URLs carry secrets there)."""
    return url.split("?", 1)[0][:300]

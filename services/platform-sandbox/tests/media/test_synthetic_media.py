"""Synthetic media served at `/_sandbox/media/...` and recognised by its bytes; fetching only
from loopback."""

from __future__ import annotations

import httpx
import pytest

from platform_sandbox.media.fetch import FetchError, MediaFetcher, is_loopback_url
from platform_sandbox.media.synthetic import generate, sniff
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [
        ("a.jpg", "image/jpeg", "jpeg"),
        ("a.png", "image/png", "png"),
        ("a.webp", "image/webp", "webp"),
        ("a.mp4", "video/mp4", "mp4"),
        ("a.mov", "video/quicktime", "mov"),
        ("a.pdf", "application/pdf", "pdf"),
    ],
)
async def test_kind_size_and_headers(
    harness: SandboxHarness, name: str, mime: str, kind: str
) -> None:
    response = await harness.client.get(f"/_sandbox/media/{name}", params={"bytes": 123_457})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(mime)
    assert response.headers["content-length"] == "123457"
    assert len(response.content) == 123_457
    assert sniff(response.content[:1024]).kind == kind


async def test_pictures_carry_their_size(harness: SandboxHarness) -> None:
    for name in ("a.jpg", "a.png"):
        response = await harness.client.get(
            f"/_sandbox/media/{name}", params={"width": 640, "height": 800}
        )
        sniffed = sniff(response.content[:1024])
        assert (sniffed.width, sniffed.height) == (640, 800)
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_jpeg_ends_with_eoi_and_mp4_boxes_add_up() -> None:
    jpeg = b"".join(generate("jpg", 5000))
    assert jpeg[:3] == b"\xff\xd8\xff"
    assert jpeg[-2:] == b"\xff\xd9"
    mp4 = b"".join(generate("mp4", 5000))
    ftyp = int.from_bytes(mp4[:4], "big")
    assert mp4[4:8] == b"ftyp"
    assert mp4[ftyp + 4 : ftyp + 8] == b"mdat"
    assert ftyp + int.from_bytes(mp4[ftyp : ftyp + 4], "big") == 5000


async def test_failures_and_bounds(harness: SandboxHarness) -> None:
    assert (
        await harness.client.get("/_sandbox/media/a.jpg", params={"status": 503})
    ).status_code == 503
    assert (await harness.client.get("/_sandbox/media/a.exe")).status_code == 404
    assert (
        await harness.client.get("/_sandbox/media/a.jpg", params={"bytes": 3})
    ).status_code == 400
    head = await harness.client.head("/_sandbox/media/a.mp4", params={"bytes": 100})
    assert head.headers["content-length"] == "100"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8120/x", True),
        ("http://127.8.0.3/x", True),
        ("http://localhost/x", True),
        ("http://[::1]:80/x", True),
        ("https://example.com/x", False),
        ("http://10.0.0.1/x", False),
        ("ftp://127.0.0.1/x", False),
        ("not a url", False),
    ],
)
def test_loopback_only(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


async def test_fetcher_refuses_remote_urls_redirects_and_oversize() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/redirect":
            return httpx.Response(302, headers={"location": "http://127.0.0.1/a"})
        return httpx.Response(200, content=b"x" * 1000)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        fetcher = MediaFetcher(lambda: client, timeout_s=1.0)
        reasons = []
        for url, limit in [
            ("https://example.com/a.jpg", 10_000),
            ("http://127.0.0.1/redirect", 10_000),
            ("http://127.0.0.1/a", 10),
        ]:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(url, max_bytes=limit)
            reasons.append(caught.value.reason)
        assert reasons == ["not_loopback", "http_status", "too_large"]
        fetched = await fetcher.fetch("http://127.0.0.1/a", max_bytes=10_000, keep=True)
        assert (fetched.size, fetched.data) == (1000, b"x" * 1000)

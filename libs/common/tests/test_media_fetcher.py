"""The safe media fetcher against real loopback servers: streaming, resume, caps, redirects,
DNS pinning. `LoopbackServer` (also used by test_media_hostile.py) is a small HTTP/1.1 server
that counts every connection it accepts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import pytest

from herald.errors import Permanent, Transient
from herald.media import FetchSettings, MediaFetcher
from herald.media.guard import Unresolvable

pytestmark = pytest.mark.unit


def body_of(size: int, start: int = 0) -> bytes:
    return bytes((i * 7) % 251 for i in range(start, size))


@dataclass
class LoopbackServer:
    """Answers `/file?bytes=N` (Range honoured unless `&range=no`; `&length=no` for chunked),
    `[/prefix]/redirect?to=URL`, `/status?code=N`, `/slow?bytes=N&every=S` and `/hang`."""

    connections: int = 0
    requests: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None
    host: str = "127.0.0.1"

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            self.requests.append(target)
            await self._answer(target, headers, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _answer(
        self, target: str, headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> None:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path.endswith("/redirect"):  # under any prefix: `/media/redirect` too
            await _send(writer, 302, [("Location", query["to"])], b"")
        elif parts.path == "/status":
            await _send(writer, int(query["code"]), [], b"nope")
        elif parts.path == "/hang":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(5)
        elif parts.path == "/slow":
            await _trickle(writer, int(query["bytes"]), float(query["every"]))
        else:
            await _file(writer, query, headers)


async def _send(
    writer: asyncio.StreamWriter, status: int, headers: Iterable[tuple[str, str]], body: bytes
) -> None:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()


async def _file(
    writer: asyncio.StreamWriter, query: dict[str, str], headers: dict[str, str]
) -> None:
    size = int(query.get("bytes", "1000"))
    start, status = 0, 200
    wanted = headers.get("range", "")
    if wanted.startswith("bytes=") and query.get("range") != "no":
        start, status = int(wanted[6:].rstrip("-")), 206
    extra = [("Content-Type", "video/mp4")]
    if status == 206:
        extra.append(("Content-Range", f"bytes {start}-{size - 1}/{size}"))
    body = body_of(size, start)
    if query.get("length") == "no":
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for i in range(0, len(body), 100):
            piece = body[i : i + 100]
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return
    await _send(writer, status, extra, body)


async def _trickle(writer: asyncio.StreamWriter, size: int, every: float) -> None:
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
    for _ in range(size):
        await writer.drain()
        await asyncio.sleep(every)
        writer.write(b"x")
    await writer.drain()


@dataclass
class Tripwire(httpcore.AsyncNetworkBackend):
    """The socket layer under the guard: records every connection attempt; connects for real
    only to loopback, so no test can ever send traffic elsewhere."""

    attempts: list[tuple[str, int]] = field(default_factory=list)

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append((host, port))
        if not host.startswith("127.") and host != "::1":
            raise httpcore.ConnectError(f"tripwire: no traffic to {host}")
        return await httpcore.AnyIOBackend().connect_tcp(host, port, *args, **kwargs)


@dataclass
class FakeDns:
    answers: dict[str, list[list[str]]]
    asked: list[str] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise Unresolvable(f"{host} did not resolve")
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    started = await LoopbackServer().start()
    yield started
    await started.stop()


def fetcher(
    server: LoopbackServer, dns: FakeDns | None = None, tripwire: Tripwire | None = None, **kw: Any
) -> MediaFetcher:
    settings = FetchSettings(allowed_origins=[server.origin], **kw)
    return MediaFetcher(settings, resolver=dns, connector=tripwire or Tripwire())


async def read_all(f: MediaFetcher, url: str, **kw: Any) -> tuple[bytes, int | None, int]:
    async with f.open(url, **kw) as media:
        pieces = [chunk async for chunk in media.iter_bytes(chunk_size=4096)]
        return b"".join(pieces), media.size, len(pieces)


async def test_streams_a_file_from_an_allowed_origin_in_pieces(server: LoopbackServer) -> None:
    f = fetcher(server)
    data, size, pieces = await read_all(f, f"{server.origin}/file?bytes=100000")
    await f.aclose()
    assert data == body_of(100_000)
    assert size == 100_000
    assert pieces > 1


@pytest.mark.parametrize("ranged", ["yes", "no"])
async def test_resumes_from_an_offset_with_or_without_range_support(
    server: LoopbackServer, ranged: str
) -> None:
    f = fetcher(server)
    url = f"{server.origin}/file?bytes=50000&range={ranged}"
    data, size, _ = await read_all(f, url, offset=12_345)
    await f.aclose()
    assert data == body_of(50_000)[12_345:]
    assert size == 50_000


async def test_size_cap_from_content_length_before_reading(server: LoopbackServer) -> None:
    f = fetcher(server)
    with pytest.raises(Permanent) as caught:
        await read_all(f, f"{server.origin}/file?bytes=5000", max_bytes=4000)
    await f.aclose()
    assert caught.value.code == "media_too_large"
    assert "4,000 bytes" in caught.value.message


async def test_size_cap_while_streaming_without_content_length(server: LoopbackServer) -> None:
    f = fetcher(server, max_bytes=3000)
    with pytest.raises(Permanent) as caught:
        await read_all(f, f"{server.origin}/file?bytes=5000&length=no")
    await f.aclose()
    assert caught.value.code == "media_too_large"


async def test_time_cap_over_the_whole_download(server: LoopbackServer) -> None:
    f = fetcher(server, total_timeout_s=0.5)
    with pytest.raises(Transient) as caught:
        await read_all(f, f"{server.origin}/slow?bytes=50&every=0.05")
    await f.aclose()
    assert caught.value.code == "media_timeout"


async def test_a_silent_server_times_out_as_transient(server: LoopbackServer) -> None:
    f = fetcher(server, read_timeout_s=0.3)
    with pytest.raises(Transient) as caught:
        await read_all(f, f"{server.origin}/hang")
    await f.aclose()
    assert caught.value.code == "media_timeout"


@pytest.mark.parametrize(("code", "kind"), [(404, Permanent), (403, Permanent), (503, Transient)])
async def test_http_statuses_are_classified(
    server: LoopbackServer, code: int, kind: type[Exception]
) -> None:
    f = fetcher(server)
    with pytest.raises(kind) as caught:
        await read_all(f, f"{server.origin}/status?code={code}")
    await f.aclose()
    assert f"HTTP {code}" in str(caught.value)
    assert "nope" not in str(caught.value)  # no response body leaks into the error


async def test_redirects_are_followed_and_each_hop_is_checked(server: LoopbackServer) -> None:
    f = fetcher(server)
    target = f"{server.origin}/file?bytes=300"
    data, _, _ = await read_all(f, f"{server.origin}/redirect?to={target}")
    await f.aclose()
    assert data == body_of(300)


async def test_too_many_redirects(server: LoopbackServer) -> None:
    f = fetcher(server, max_redirects=2)
    hop = f"{server.origin}/redirect?to={server.origin}/redirect?to=/file"
    with pytest.raises(Transient) as caught:
        await read_all(f, f"{server.origin}/redirect?to={hop}")
    await f.aclose()
    assert caught.value.code == "media_redirects"


async def test_the_socket_goes_to_the_address_that_was_checked(server: LoopbackServer) -> None:
    """DNS rebinding: the first answer is public, the next one loopback. The connection uses the
    checked answer (pinned), and the later loopback answer is refused before any connection."""
    dns = FakeDns({"cdn.example.com": [["93.184.216.34"], ["127.0.0.1"]]})
    wire = Tripwire()
    f = MediaFetcher(FetchSettings(), resolver=dns, connector=wire)
    with pytest.raises(Transient):
        await read_all(f, "http://cdn.example.com/v.mp4")
    assert wire.attempts == [("93.184.216.34", 80)]
    with pytest.raises(Permanent) as caught:
        await read_all(f, "http://cdn.example.com/v.mp4")
    await f.aclose()
    assert caught.value.code == "media_url_forbidden_address"
    assert wire.attempts == [("93.184.216.34", 80)]
    assert dns.asked == ["cdn.example.com", "cdn.example.com"]


async def test_an_unresolvable_host_is_transient(server: LoopbackServer) -> None:
    f = MediaFetcher(FetchSettings(), resolver=FakeDns({}), connector=Tripwire())
    with pytest.raises(Transient) as caught:
        await read_all(f, "https://nowhere.example.com/v.mp4")
    await f.aclose()
    assert caught.value.code == "media_dns"


async def test_only_default_ports_unless_configured(server: LoopbackServer) -> None:
    f = MediaFetcher(FetchSettings(), connector=Tripwire())
    with pytest.raises(Permanent) as caught:
        await read_all(f, "https://cdn.example.com:8443/v.mp4")
    await f.aclose()
    assert caught.value.code == "media_url_port"

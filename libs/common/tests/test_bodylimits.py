"""Request bodies arrive whole, in time and within their route's size (issue 19, finding 5), over
a real socket: a body that promises more than it sends is answered 408 and its connection
closed; one that is (or says it is) too large, 413; everything else reaches the app intact."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from herald.bodylimits import BodyLimit, install_body_limits, template_pattern
from herald.settings import HttpServerSettings
from herald.testkit.servers import serving_in_thread

pytestmark = pytest.mark.unit

# The test's own patience for an answer: far beyond the 0.5 s the routes give a body.
ANSWER_WITHIN_S = 30.0


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.post("/files/{name}")
    async def upload(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    http = HttpServerSettings(port=1, max_body_bytes=1000, body_timeout_s=0.5)
    install_body_limits(app, http, {"/files/{name}": BodyLimit(5000, 0.5)})
    return app


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving_in_thread(_app()) as base:
        yield base


def _raw(url: str, request: bytes) -> bytes:
    """Send `request` as is and read until the server closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=ANSWER_WITHIN_S) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_body_that_promises_more_than_it_sends_is_answered_408_and_closed(url: str) -> None:
    answer = _raw(url, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n" + b"a" * 10)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"connection: close" in head.lower()
    assert b'"error": "request_timeout"' in body


def test_a_chunked_body_that_never_ends_is_answered_408(url: str) -> None:
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    assert _raw(url, request).startswith(b"HTTP/1.1 408")


def test_a_body_declared_larger_than_the_route_takes_is_refused_without_reading(url: str) -> None:
    answer = _raw(url, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"error": "too_large"' in answer


def test_a_chunked_body_larger_than_the_route_takes_is_refused(url: str) -> None:
    chunk = b"%x\r\n%s\r\n" % (600, b"a" * 600)
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2
    assert _raw(url, request + b"0\r\n\r\n").startswith(b"HTTP/1.1 413")


def test_bodies_within_the_limits_reach_the_app_whole(url: str) -> None:
    small = httpx.post(f"{url}/echo", content=b"a" * 1000, timeout=ANSWER_WITHIN_S)
    file = httpx.post(f"{url}/files/f1", content=b"b" * 5000, timeout=ANSWER_WITHIN_S)
    too_big_here = httpx.post(f"{url}/echo", content=b"b" * 5000, timeout=ANSWER_WITHIN_S)
    empty = httpx.post(f"{url}/echo", timeout=ANSWER_WITHIN_S)
    assert (small.status_code, small.json()) == (200, {"received": 1000})
    assert (file.status_code, file.json()) == (200, {"received": 5000})
    assert too_big_here.status_code == 413
    assert (empty.status_code, empty.json()) == (200, {"received": 0})


@pytest.mark.parametrize(
    ("template", "path", "matches"),
    [
        ("/v1/audiences/{audience_id}/imports", "/v1/audiences/au_1/imports", True),
        ("/v1/audiences/{audience_id}/imports", "/v1/audiences/a/b/imports", False),
        ("/v1/audiences/{audience_id}/imports", "/v1/audiences/au_1/imports/x", False),
        ("/files/{rest:path}", "/files/a/b/c", True),
        ("/webhooks/whatsapp", "/webhooks/whatsapp", True),
        ("/a.b/video/", "/axb/video/", False),
    ],
)
def test_route_templates_match_their_paths_only(template: str, path: str, matches: bool) -> None:
    assert bool(template_pattern(template).match(path)) is matches

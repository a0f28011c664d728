"""A loopback HTTP stub for benchmarks: answers every POST with a small JSON body, at once.

Run as `python http_stub.py <port>`; a raw ASGI callable under uvicorn, so the stub itself costs
as little as possible and is the same for every variant measured against it.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

_ids = itertools.count(1)


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body"))
    body = b'{"id":"%d"}' % next(_ids)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)

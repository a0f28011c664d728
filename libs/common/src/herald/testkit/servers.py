"""Apps over real HTTP on loopback ports, for tests and benchmarks: a free port, an ASGI app under
uvicorn in a thread with its own event loop (the caller's loop stays free to drive it), or in the
caller's own loop (when the app must share it, e.g. with the fixtures that feed its consumers)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from fastapi import FastAPI

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A loopback port nothing listens on now (the OS's pick; free until someone binds it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _server(app: FastAPI, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host=HOST, port=port, log_config=None, access_log=False)
    return uvicorn.Server(config)


class ServerThread:
    """An ASGI app under uvicorn on a loopback port, in a thread with its own event loop."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = _server(app, self.port)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                msg = f"server on port {self.port} did not start"
                raise RuntimeError(msg)
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STOP_TIMEOUT_S)


@contextmanager
def serving_in_thread(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """`app` under uvicorn in a thread for the block; yields its base URL."""
    server = ServerThread(app, port).start()
    try:
        yield server.url
    finally:
        server.stop()


@asynccontextmanager
async def serving_in_loop(app: FastAPI, port: int) -> AsyncIterator[FastAPI]:
    """Serve `app` (its lifespan: consumers, jobs) over HTTP in this event loop for the block."""
    server = _server(app, port)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            msg = f"server on port {port} did not start"
            raise RuntimeError(msg)
        await asyncio.sleep(0.05)
    try:
        yield app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)

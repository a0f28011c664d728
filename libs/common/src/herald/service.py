"""What every Herald process serves and how it runs: `/healthz`, `/readyz`, `/metrics`, uvicorn.

`/healthz` answers while the process runs. `/readyz` answers 200 only when every dependency the
service uses (Kafka, MongoDB, auth-service, ...) answered a check just now, and 503 naming the
ones that did not. `/metrics` serves the service's own Prometheus registry (one per app, so tests
can build many apps in one process), with the process collectors, `herald_build_info` and every
other request counted and timed (`herald.metrics`); those requests run in a server span
(`herald.tracing`).

`python -m <package>` (`run_service`) answers `--help` without starting anything; binds its port
before the app starts (so a port in use stops it at once, exit status 4, before it joins any
consumer group); and stops on SIGTERM or SIGINT whenever one comes, during start-up too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
from argparse import ArgumentParser
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from typing import Any, Literal, TypeVar

import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings

from herald.logging import configure_logging
from herald.metrics import RequestMetrics, install_process_metrics
from herald.settings import (
    ConfigurationError,
    HttpServerSettings,
    LogSettings,
    environment_variables,
    load_settings,
)
from herald.stopping import cancel_and_wait
from herald.tracing import OPERATIONAL_PATHS, TracingMiddleware, configure_tracing

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=BaseSettings)

CHECK_TIMEOUT_S = 2.0


async def run_checks(checks: Mapping[str, ReadinessCheck]) -> dict[str, str]:
    """Run every check concurrently with a timeout; map name → "ok" or the reason it failed."""

    async def one(check: ReadinessCheck) -> str:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT_S:.0f}s"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by name
            return f"{type(exc).__name__}: {exc}"[:300]
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(checks[n]) for n in names))
    return dict(zip(names, results, strict=True))


def add_operational_routes(
    app: FastAPI,
    *,
    service: str,
    checks: Mapping[str, ReadinessCheck],
    registry: CollectorRegistry,
) -> None:
    """Mount `/healthz`, `/readyz` and `/metrics` on `app` (`app.state.registry` is what
    `/metrics` serves) and trace its other requests."""
    install_process_metrics(registry, service)
    app.state.registry = registry
    instruments = RequestMetrics.instruments(registry)
    app.add_middleware(RequestMetrics, instruments=instruments, skip=OPERATIONAL_PATHS)
    app.add_middleware(TracingMiddleware)  # outside the metrics: their logs carry the trace
    # FastAPI's own OpenTelemetry support would add a second server span per request, spans per
    # dependency, and the query string (OAuth codes on callbacks): Herald's middleware records
    # neither. Its settings live on the app (what `FastAPI(telemetry=...)` sets).
    telemetry = getattr(app, "_telemetry", None)
    if isinstance(telemetry, dict):
        telemetry.update(tracing=False, metrics=False, logs=False)

    # Documented in every service's OpenAPI (tag `operations`), probes and scrapers being clients.
    @app.get("/healthz", tags=["operations"], response_model=Alive)
    async def healthz() -> Alive:
        """Liveness: the process answers (no dependency is asked)."""
        return Alive(status="alive", service=service)

    @app.get("/readyz", tags=["operations"], response_model=Readiness, responses=READY_RESPONSES)
    async def readyz() -> JSONResponse:
        """Readiness: every dependency answered its check (Kafka, MongoDB, ...)."""
        results = await run_checks(checks)
        ready = all(v == "ok" for v in results.values())
        body = {"status": "ready" if ready else "not_ready", "service": service, "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response, responses=METRICS_RESPONSES)
    async def metrics() -> Response:
        """Prometheus metrics, text exposition format (docs/metrics.md)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class Alive(BaseModel):
    status: Literal["alive"]
    service: str


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    service: str
    checks: dict[str, str] = Field(description="Each dependency: `ok`, or why it is not.")


READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "A dependency did not answer its check"}
}
METRICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its graceful shutdown, so the process would end "killed
    by SIGTERM" (status -15); a shutdown that completed is a clean exit, status 0. And uvicorn
    notes a signal that comes during start-up only once start-up is over, which waiting for
    Kafka and MongoDB can make minutes: then the start-up is cancelled at once."""

    _main: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _EXIT_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._main, self._loop = asyncio.current_task(), asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        if not self.started and self._main is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._main.cancel)


_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
CANNOT_BIND = 4


def uvicorn_config(app: FastAPI, http: HttpServerSettings) -> uvicorn.Config:
    """How every service runs under uvicorn. Proxy headers are uvicorn's default: the client
    address (`request.client`) is taken from `X-Forwarded-For` only when the request comes from
    an address in `FORWARDED_ALLOW_IPS` (loopback when unset), as auth-service's sign-in limit
    needs behind the console (ADR 0024); from anyone else the header is ignored."""
    return uvicorn.Config(
        app,
        host=http.host,
        port=http.port,
        log_config=None,  # herald.logging already routes uvicorn's loggers
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
    )


def serve(app: FastAPI, http: HttpServerSettings) -> None:
    """Run `app` under uvicorn until SIGINT or SIGTERM, then shut the lifespan down cleanly.

    The port is bound first: a port in use ends the process (status 4) before the app's
    lifespan has connected to anything."""
    try:
        listening = bind(http)
    except OSError as exc:
        log.error("service.cannot_bind", host=http.host, port=http.port, error=str(exc))
        raise SystemExit(CANNOT_BIND) from exc
    server = _Server(uvicorn_config(app, http))
    try:
        server.run(sockets=[listening])
    except asyncio.CancelledError:
        log.info("service.stopped_while_starting")  # asked to stop before it was up
        return
    finally:
        listening.close()
    if not server.started:
        # The lifespan failed (a dependency never answered, a bad setting); uvicorn has logged why.
        raise SystemExit(3)


def bind(http: HttpServerSettings) -> socket.socket:
    """A socket bound to the service's address (listening begins when uvicorn serves it)."""
    family = socket.AF_INET6 if ":" in http.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((http.host, http.port))
    except OSError:
        sock.close()
        raise
    return sock


def command_line(name: str, settings_cls: type[BaseSettings], commands: str = "") -> ArgumentParser:
    """`python -m <package> --help`: what the process does and every variable it reads."""
    package = name.replace("-", "_")
    variables = "\n".join(f"  {line}" for line in environment_variables(settings_cls))
    epilog = f"{commands}\n\n" if commands else ""
    return argparse.ArgumentParser(
        prog=f"python -m {package}",
        description=f"Run {name}: serve its HTTP API and do its work until SIGTERM or SIGINT.\n"
        "Settings come from the environment; the command takes no other argument.",
        epilog=f"{epilog}environment variables:\n{variables}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run_service(
    name: str,
    settings_cls: type[S],
    create_app: Callable[[S], FastAPI],
    *,
    http: Callable[[S], HttpServerSettings],
    log_settings: Callable[[S], LogSettings],
    argv: list[str] | None = None,
    commands: str = "",
) -> int:
    """The body of every `python -m <service>`: answer `--help` (and refuse arguments: settings
    are the environment's), load settings or explain why not, then serve."""
    command_line(name, settings_cls, commands).parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(settings_cls)
    except ConfigurationError as exc:
        print(f"{name}: refusing to start: {exc}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    configure_logging(log_settings(settings), service=name)
    configure_tracing(name)
    try:
        app = create_app(settings)
    except ConfigurationError as exc:
        print(f"{name}: refusing to start: {exc}", file=sys.stderr)  # noqa: T201 - plain and final
        return 2
    log.info("service.starting", host=http(settings).host, port=http(settings).port)
    serve(app, http(settings))
    log.info("service.stopped")
    return 0


def run_alongside(app: FastAPI, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `job` as a task while `app`'s lifespan is up (after its own start-up, so MongoDB and
    Kafka are ready), and cancel it before the app's own shutdown."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            task = asyncio.create_task(job())
            try:
                yield state
            finally:
                await cancel_and_wait(task)

    app.router.lifespan_context = lifespan

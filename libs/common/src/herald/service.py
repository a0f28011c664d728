"""What every Herald process serves and how it runs: `/healthz`, `/readyz`, `/metrics`, uvicorn.

`/healthz` answers while the process runs. `/readyz` answers 200 only when every dependency the
service uses (Kafka, MongoDB, auth-service, ...) answered a check just now, and 503 naming the
ones that did not. `/metrics` serves the service's own Prometheus registry (one per app, so tests
can build many apps in one process), with the process collectors, `herald_build_info` and every
other request counted and timed (`herald.metrics`); those requests run in a server span
(`herald.tracing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar

import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic_settings import BaseSettings

from herald.logging import configure_logging
from herald.metrics import RequestMetrics, install_process_metrics
from herald.settings import ConfigurationError, HttpServerSettings, LogSettings, load_settings
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

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results = await run_checks(checks)
        ready = all(v == "ok" for v in results.values())
        body = {"status": "ready" if ready else "not_ready", "service": service, "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its graceful shutdown, so the process would end "killed
    by SIGTERM" (status -15); a shutdown that completed is a clean exit, status 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _EXIT_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(app: FastAPI, http: HttpServerSettings) -> None:
    """Run `app` under uvicorn until SIGINT or SIGTERM, then shut the lifespan down cleanly."""
    config = uvicorn.Config(
        app,
        host=http.host,
        port=http.port,
        log_config=None,  # herald.logging already routes uvicorn's loggers
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
    )
    server = _Server(config)
    server.run()
    if not server.started:
        # The lifespan failed (a dependency never answered, a bad setting); uvicorn has logged why.
        raise SystemExit(3)


def run_service(
    name: str,
    settings_cls: type[S],
    create_app: Callable[[S], FastAPI],
    *,
    http: Callable[[S], HttpServerSettings],
    log_settings: Callable[[S], LogSettings],
) -> int:
    """The body of every `python -m <service>`: load settings or explain why not, then serve."""
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
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    app.router.lifespan_context = lifespan

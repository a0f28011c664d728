"""Bring the local stack up and down as a whole, one component at a time, under a file lock.

`up` starts what is not running and leaves alone what is (so a second `up` is a no-op);
`down` stops, by PID, what this checkout started. Test sessions and benchmarks use
`shared_infra`: the last of them out stops what any of them started (`sharing.py`), so a session
ending never stops Kafka or FerretDB under another one, or under `make up`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient

from herald.kafka import provision_topics
from herald.topics import TopicNames
from herald_localstack import ferretdb, kafka, postgres, services, sharing
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError
from herald_localstack.process import Managed, port_taken

Say = Callable[[str], None]


@dataclass
class Report:
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def locked(cfg: StackConfig) -> Iterator[None]:
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with (cfg.run_dir / "stack.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _require_free(ports: dict[int, str]) -> None:
    for port, what in ports.items():
        if port_taken(port):
            msg = (
                f"port {port} ({what}) is already taken by another process: stop it, "
                f"or choose another port with {_PORT_VARS.get(what, 'the service settings')}"
            )
            raise StackError(msg)


_PORT_VARS = {
    "Kafka": "HERALD_STACK_KAFKA_PORT",
    "Kafka controller": "HERALD_STACK_KAFKA_CONTROLLER_PORT",
    "FerretDB": "HERALD_STACK_FERRETDB_PORT",
    "FerretDB debug": "HERALD_STACK_FERRETDB_DEBUG_PORT",
    "PostgreSQL": "HERALD_STACK_POSTGRES_PORT",
}


def _timed(report: Report, name: str, step: Callable[[], object]) -> None:
    began = time.monotonic()
    step()
    report.timings[name] = time.monotonic() - began


def install(cfg: StackConfig, report: Report, say: Say) -> None:
    if not (cfg.kafka_libs / ".complete").exists():
        say(f"fetching Kafka jars from Maven Central into {cfg.kafka_libs} ...")
        _timed(report, "kafka install", lambda: kafka.install(cfg))
    if not cfg.ferretdb_bin.exists():
        say(f"building FerretDB with go install into {cfg.ferretdb_bin.parent} (minutes) ...")
        _timed(report, "ferretdb install", lambda: ferretdb.install(cfg))


def ensure_infra(cfg: StackConfig, say: Say = lambda _: None) -> Report:
    """Kafka, PostgreSQL and FerretDB running and ready, topics provisioned; reports what it
    started."""
    with locked(cfg):
        return _ensure_infra(cfg, say)


@contextlib.contextmanager
def shared_infra(cfg: StackConfig, say: Say = lambda _: None) -> Iterator[Report]:
    """`ensure_infra` for a test session or a benchmark: on leaving, what such users started is
    stopped by the last of them (`sharing.py`); a stack `make up` owns is left running."""
    with locked(cfg):
        report = _ensure_infra(cfg, say)
        sharing.join(cfg, report.started)
    try:
        yield report
    finally:
        with locked(cfg):
            sharing.leave(cfg, lambda names: _down(cfg, names))


def _ensure_infra(cfg: StackConfig, say: Say) -> Report:
    report = Report()
    install(cfg, report, say)
    kafka_ports = {cfg.kafka_port: "Kafka", cfg.kafka_controller_port: "Kafka controller"}
    _ensure(report, say, kafka.managed(cfg), ports=kafka_ports, start=lambda: kafka.start(cfg))
    _ensure(
        report,
        say,
        postgres.managed(cfg),
        ports={cfg.postgres_port: "PostgreSQL"},
        start=lambda: postgres.start(cfg),
    )
    ferret_ports = {cfg.ferretdb_port: "FerretDB", cfg.ferretdb_debug_port: "FerretDB debug"}
    _ensure(
        report,
        say,
        ferretdb.managed(cfg),
        ports=ferret_ports,
        start=lambda: ferretdb.start(cfg),
    )
    _timed(report, "provision topics", lambda: provision(cfg))
    return report


def _ensure(
    report: Report,
    say: Say,
    proc: Managed,
    *,
    ports: dict[int, str],
    start: Callable[[], Managed],
) -> None:
    if proc.pid() is not None:
        report.already_running.append(proc.name)
        return
    _require_free(ports)
    say(f"starting {proc.name} ...")
    _timed(report, f"{proc.name} start", start)
    report.started.append(proc.name)


def provision(cfg: StackConfig) -> tuple[list[str], list[str]]:
    plan = TopicNames(prefix=cfg.topic_prefix).plan(cfg.partitions)
    return asyncio.run(provision_topics(cfg.kafka_bootstrap, plan))


def unprovision(cfg: StackConfig) -> list[str]:
    """Delete a namespaced stack's topics (a test's or a benchmark's own, `provision` made them);
    the shared stack's topics (no namespace) are never touched. Each namespace holds about 360
    partitions and the broker keeps a file open per partition: left behind, 55 of them exceeded
    the 20,000 open files a process may hold here, and the shared broker could no longer start."""
    if not cfg.namespace:
        return []
    names = [t.name for t in TopicNames(prefix=cfg.topic_prefix).plan(cfg.partitions)]
    asyncio.run(_delete_topics(cfg.kafka_bootstrap, names))
    return names


async def _delete_topics(bootstrap: str, names: list[str], timeout_s: float = 30.0) -> None:
    """Delete `names` and return once the broker no longer lists them (deletion is
    asynchronous: a listing right after the request may still show them)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        left = [name for name in names if name in set(await admin.list_topics())]
        if left:
            await admin.delete_topics(left)
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            existing = set(await admin.list_topics())
            left = [name for name in left if name in existing]
        if left:
            msg = f"Kafka still lists {len(left)} deleted topics after {timeout_s:.0f}s: {left[:3]}"
            raise StackError(msg)
    finally:
        await admin.close()


def up(cfg: StackConfig, say: Say, *, with_services: bool = True) -> Report:
    report = ensure_infra(cfg, say)
    with locked(cfg):
        sharing.adopt(cfg)  # the stack is `make up`'s now: sessions ending leave it running
    if with_services:
        with locked(cfg):
            proc = services.managed(cfg)
            _ensure(report, say, proc, ports=services.ports(cfg), start=lambda: services.start(cfg))
    return report


def down(cfg: StackConfig, only: tuple[str, ...] = ()) -> list[str]:
    """Stop, in order, what is running: services, Kafka, FerretDB, PostgreSQL.

    Returns what it stopped."""
    with locked(cfg):
        return _down(cfg, only)


def _down(cfg: StackConfig, only: tuple[str, ...]) -> list[str]:
    stopped = []
    if (not only or "services" in only) and services.stop(cfg):
        stopped.append("services")
    infra = (kafka.managed(cfg), ferretdb.managed(cfg), postgres.managed(cfg))
    stopped.extend(p.name for p in infra if (not only or p.name in only) and p.stop())
    return stopped


def status(cfg: StackConfig) -> list[tuple[str, str, str]]:
    """(component, state, detail) for each part of the stack."""
    rows = []
    kpid = kafka.managed(cfg).pid()
    kstate = (
        "down"
        if kpid is None
        else ("up" if asyncio.run(kafka.metadata_ok(cfg.kafka_bootstrap)) else "starting")
    )
    rows.append(
        ("kafka", kstate, f"pid {kpid} {cfg.kafka_bootstrap}" if kpid else cfg.kafka_bootstrap)
    )
    fpid = ferretdb.managed(cfg).pid()
    fstate = "down" if fpid is None else ("up" if ferretdb.readyz_ok(cfg) else "starting")
    rows.append(("ferretdb", fstate, f"pid {fpid} {cfg.mongo_uri}" if fpid else cfg.mongo_uri))
    ppid = postgres.managed(cfg).pid()
    pstate = "down" if ppid is None else ("up" if postgres.ready(cfg) else "starting")
    where = postgres.url(cfg)
    rows.append(("postgres", pstate, f"pid {ppid} {where}" if ppid else where))
    running = services.managed(cfg).pid() is not None
    for port, label in services.ports(cfg).items():
        state = "down" if not running else ("ready" if services.ready(port) else "not ready")
        rows.append((label, state, f"http://127.0.0.1:{port}"))
    return rows

"""Where the stack keeps things and which loopback ports it uses; each one overridable by env."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KAFKA_VERSION = "4.3.1"
FERRETDB_VERSION = "v1.24.2"
FERRETDB_MODULE = "github.com/FerretDB/FerretDB"


def _repo_root() -> Path:
    override = os.environ.get("HERALD_ROOT")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "deploy" / "local" / "kafka" / "pom.xml").is_file():
            return parent
    msg = "cannot find the Herald checkout; set HERALD_ROOT to its top folder"
    raise RuntimeError(msg)


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        msg = f"{name} must be a whole number from {low} to {high}, got {raw!r}"
        raise ValueError(msg)
    return int(raw)


def _namespace(value: str) -> str:
    if value and not (value.isascii() and value.isalnum() and value[0].isalpha()):
        msg = (
            f"HERALD_STACK_NAMESPACE must be letters and digits, starting with a letter: {value!r}"
        )
        raise ValueError(msg)
    return value


def _port(name: str, default: int) -> int:
    return _number(name, default, 1, 65535)


REPLICAS_PREFIX = "HERALD_STACK_REPLICAS_"
MAX_REPLICAS = 12  # the request topics' default partitions: more consumers would sit idle


def _replicas(environ: dict[str, str]) -> tuple[tuple[str, int], ...]:
    """`HERALD_STACK_REPLICAS_PUBLISHER_FACEBOOK=3`: (("publisher-facebook", 3),)."""
    found = []
    for name in sorted(environ):
        if name.startswith(REPLICAS_PREFIX) and name != REPLICAS_PREFIX:
            service = name.removeprefix(REPLICAS_PREFIX).lower().replace("_", "-")
            found.append((service, _number(name, 1, 1, MAX_REPLICAS)))
    return tuple(found)


@dataclass(frozen=True)
class StackConfig:
    root: Path
    cache_dir: Path
    run_dir: Path
    kafka_port: int
    kafka_controller_port: int
    ferretdb_port: int
    ferretdb_debug_port: int
    partitions: int
    postgres_port: int
    service_port_offset: int
    namespace: str = ""  # isolates a second stack's databases and topics on the same infra
    # Processes per service beyond one, by service name (services.replicas checks the names).
    replicas: tuple[tuple[str, int], ...] = ()

    @property
    def topic_prefix(self) -> str:
        return f"{self.namespace}." if self.namespace else ""

    def database(self, default: str) -> str:
        return f"{self.namespace}_{default}" if self.namespace else default

    @classmethod
    def from_env(cls) -> StackConfig:
        root = _repo_root()
        return cls(
            root=root,
            cache_dir=Path(os.environ.get("HERALD_CACHE_DIR", root / ".cache")).resolve(),
            run_dir=Path(os.environ.get("HERALD_RUN_DIR", root / ".run")).resolve(),
            kafka_port=_port("HERALD_STACK_KAFKA_PORT", 19092),
            kafka_controller_port=_port("HERALD_STACK_KAFKA_CONTROLLER_PORT", 19093),
            ferretdb_port=_port("HERALD_STACK_FERRETDB_PORT", 27018),
            ferretdb_debug_port=_port("HERALD_STACK_FERRETDB_DEBUG_PORT", 18088),
            partitions=_number("HERALD_STACK_PARTITIONS", 12, 1, 1000),
            postgres_port=_port("HERALD_STACK_POSTGRES_PORT", 15432),
            service_port_offset=_number("HERALD_STACK_SERVICE_PORT_OFFSET", 0, 0, 50_000),
            namespace=_namespace(os.environ.get("HERALD_STACK_NAMESPACE", "")),
            replicas=_replicas(dict(os.environ)),
        )

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongo_uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.ferretdb_port}/"

    @property
    def kafka_libs(self) -> Path:
        return self.cache_dir / "kafka" / KAFKA_VERSION / "libs"

    @property
    def ferretdb_bin(self) -> Path:
        return self.cache_dir / "ferretdb" / FERRETDB_VERSION / "ferretdb"

"""The layering check each service's tests run with its own rules: dependencies point inward, so a
service's inner modules (domain, handlers and their helpers) import no framework, driver or HTTP
client; and no module grows past a size (CONVENTIONS.md)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# Frameworks, drivers and clients: what only transport and adapters may import.
DRIVERS = (
    "fastapi",
    "starlette",
    "faststream",
    "httpx",
    "pymongo",
    "motor",
    "aiokafka",
    "prometheus_client",
    "uvicorn",
)
# herald modules a publisher's flow must not use: Graph's client (its error classes are fine), the
# runtime's composition, Kafka and Mongo.
PUBLISHER_INTERNALS = ("herald.graph.client", "herald.runtime.app", "herald.kafka", "herald.mongo")


def imports(module: Path) -> set[str]:
    """Every module `module` imports by absolute name."""
    tree = ast.parse(module.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


@dataclass(frozen=True)
class Layering:
    """A service's rules. `inner` are globs under its package directory `package`; they may not
    import a `forbidden` module or anything under it, nor a `forbidden_exact` one itself (a
    package some of whose submodules are fine)."""

    package: Path
    inner: tuple[str, ...]
    forbidden: tuple[str, ...] = DRIVERS
    forbidden_exact: tuple[str, ...] = ()
    max_lines: int = 300

    def inner_modules(self) -> list[Path]:
        found: set[Path] = set()
        for pattern in self.inner:
            matched = set(self.package.glob(pattern))
            if not matched:
                msg = f"no module matches {pattern!r} under {self.package}"
                raise ValueError(msg)
            found |= matched
        return sorted(found)

    def violations(self, module: Path) -> list[str]:
        """What `module` imports against the rules."""
        return sorted(
            name
            for name in imports(module)
            if name in self.forbidden_exact
            or any(name == f or name.startswith(f"{f}.") for f in self.forbidden)
        )

    def oversized(self) -> dict[str, int]:
        """Modules past `max_lines`, by path under the package, with their line counts."""
        sizes = {
            str(path.relative_to(self.package)): len(path.read_text().splitlines())
            for path in self.package.rglob("*.py")
        }
        return {name: n for name, n in sizes.items() if n > self.max_lines}

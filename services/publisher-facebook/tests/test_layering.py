"""Dependencies point inward: the flow (domain, handlers and their helpers) imports no
framework, driver or HTTP client; it sees the platform only through its port."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = Path(__file__).parents[1] / "src" / "publisher_facebook"
FORBIDDEN = (
    "fastapi",
    "starlette",
    "faststream",
    "httpx",
    "pymongo",
    "aiokafka",
    "prometheus_client",
    "uvicorn",
)
# herald modules the flow may use: the contract, the taxonomy, rules, runtime ports, Graph's
# error classes (not its client).
FORBIDDEN_HERALD = ("herald.graph.client", "herald.runtime.app", "herald.kafka", "herald.mongo")


def imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


@pytest.mark.parametrize(
    "module",
    [
        SRC / "domain.py",
        SRC / "handlers.py",
        SRC / "ports.py",
        SRC / "insights.py",
    ],
    ids=lambda p: p.name,
)
def test_the_flow_imports_no_framework_or_driver(module: Path) -> None:
    found = imports(module)
    assert [n for n in found if n.split(".")[0] in FORBIDDEN] == []
    assert [n for n in found if n.startswith(FORBIDDEN_HERALD) or n == "herald.graph"] == []


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 300} == {}

"""Dependencies point inward: the flow (domain, bodies, pacing, sending, handlers, webhooks and
their ports) imports no framework, driver or HTTP client; modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = Path(__file__).parents[1] / "src" / "publisher_whatsapp"
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
FORBIDDEN_HERALD = ("herald.graph.client", "herald.runtime.app", "herald.kafka", "herald.mongo")
FLOW = (
    "domain.py",
    "bodies.py",
    "pace.py",
    "sending.py",
    "handlers.py",
    "webhooks.py",
    "signatures.py",
    "ports.py",
)


def imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


@pytest.mark.parametrize("name", FLOW)
def test_the_flow_imports_no_framework_or_driver(name: str) -> None:
    found = imports(SRC / name)
    assert [n for n in found if n.split(".")[0] in FORBIDDEN] == []
    assert [n for n in found if n.startswith(FORBIDDEN_HERALD) or n == "herald.graph"] == []
    assert [n for n in found if n.startswith("publisher_whatsapp.adapters")] == []


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 300} == {}

"""Dependencies point inward: domain and handlers import no framework or driver; modules stay
small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = Path(__file__).parents[1] / "src" / "scheduler"
PURE = ("domain", "recurrence", "contacts", "imports", "personalize", "broadcast", "deliveries")
FORBIDDEN = (
    "fastapi",
    "starlette",
    "faststream",
    "httpx",
    "pymongo",
    "aiokafka",
    "prometheus_client",
)


@pytest.mark.parametrize(
    "module",
    [
        *(SRC / f"{name}.py" for name in PURE),
        *sorted((SRC / "handlers").glob("*.py")),
    ],
    ids=lambda p: p.name,
)
def test_no_framework_imports(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert [name for name in imported if name.split(".")[0] in FORBIDDEN] == []


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 330} == {}

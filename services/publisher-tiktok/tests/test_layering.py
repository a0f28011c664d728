"""Dependencies point inward: the flow and its rules import no framework or driver."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = Path(__file__).parents[1] / "src" / "publisher_tiktok"
FORBIDDEN = ("fastapi", "starlette", "faststream", "httpx", "pymongo", "prometheus_client")
INWARD = ["domain.py", "handlers.py", "progress.py", "upload.py", "ports.py", "signatures.py"]


@pytest.mark.parametrize("name", INWARD)
def test_no_framework_imports(name: str) -> None:
    tree = ast.parse((SRC / name).read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert [n for n in imported if n.split(".")[0] in FORBIDDEN] == []


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 300} == {}

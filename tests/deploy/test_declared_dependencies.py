"""Every workspace member's code imports only what its own pyproject.toml declares (issue 21).

A service's image installs its package and what that declares, nothing else (`uv sync --no-dev
--package <service>`): a module under `src/` that imports anything more fails there, though the
whole workspace's venv hides it here. Publishers shipped test support importing platform_sandbox,
and imported fastapi, httpx and pymongo only through herald-common's declarations. So each
member's imports are mapped to distributions (`importlib.metadata.packages_distributions()`, and
the members' own packages by their directories) and must be the standard library, the member
itself, or a distribution its `[project]` table names (dependencies, or an extra's).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[2]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def members() -> dict[Path, dict[str, object]]:
    """Each workspace member's directory and its `[project]` table."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for directory in sorted(ROOT.glob(pattern)):
            pyproject = directory / "pyproject.toml"
            if pyproject.is_file():
                found[directory] = tomllib.loads(pyproject.read_text())["project"]
    return found


def top_level(source: Path) -> set[str]:
    """The importable top-level names under `source` (a `src/` directory)."""
    return {p.stem for p in source.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}


def declared(project: dict[str, object]) -> set[str]:
    """The distributions `[project]` names: its dependencies and its extras' (an extra is for code
    that imports it only on the path that needs it)."""
    requirements = project.get("dependencies", [])
    extras = project.get("optional-dependencies", {})
    assert isinstance(requirements, list)
    assert isinstance(extras, dict)
    every = [*requirements, *(r for group in extras.values() for r in group)]
    names = (re.match(r"[A-Za-z0-9._-]+", str(r)) for r in every)
    return {normalized(m.group(0)) for m in names if m}


def imported(module: Path) -> Iterator[tuple[str, int]]:
    """The top-level name of every absolute import in `module`, with its line."""
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


MEMBERS = members()
WORKSPACE = {
    name: normalized(str(project["name"]))
    for directory, project in MEMBERS.items()
    for name in top_level(directory / "src")
}
INSTALLED = importlib.metadata.packages_distributions()


def undeclared(directory: Path, project: dict[str, object]) -> list[str]:
    own, allowed = normalized(str(project["name"])), declared(project)
    problems = []
    for module in sorted((directory / "src").rglob("*.py")):
        for name, line in imported(module):
            if name in sys.stdlib_module_names:
                continue
            dists = {WORKSPACE[name]} if name in WORKSPACE else set(INSTALLED.get(name, []))
            if own in dists or {normalized(d) for d in dists} & allowed:
                continue
            where = f"{module.relative_to(ROOT)}:{line}"
            source = ", ".join(sorted(dists)) or "no installed distribution"
            problems.append(f"{where} imports {name} ({source}), not declared by {own}")
    return problems


@pytest.mark.parametrize("directory", MEMBERS, ids=lambda d: str(d.relative_to(ROOT)))
def test_a_member_imports_only_what_it_declares(directory: Path) -> None:
    assert undeclared(directory, MEMBERS[directory]) == []

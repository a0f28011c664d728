"""Every document in docs/asyncapi/ is accepted by AsyncAPI's own parser (issue 23).

`@asyncapi/parser` 3.6.6 is the library `asyncapi validate` runs; it is pinned by
tests/contract/asyncapi_parser/package-lock.json and installed once into .cache by
scripts/ensure-node-tools. Errors and warnings fail the test; the parser's diagnostics are shown.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_every_asyncapi_document_passes_the_official_parser() -> None:
    documents = sorted((ROOT / "docs" / "asyncapi").glob("*.json"))
    assert len(documents) == 6, documents
    node = shutil.which("node")
    assert node is not None, "Node.js 18+ is needed: the AsyncAPI parser runs on it (README)"
    tools = subprocess.run(  # noqa: S603 - the project's own script
        [str(ROOT / "scripts" / "ensure-node-tools")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tools.returncode == 0, tools.stderr
    folder = Path(tools.stdout.strip())
    parsed = subprocess.run(  # noqa: S603 - the pinned parser on our documents
        [node, str(folder / "validate.mjs"), *map(str, documents)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    assert parsed.stdout.count(": valid AsyncAPI 3.0.0") == len(documents), parsed.stdout

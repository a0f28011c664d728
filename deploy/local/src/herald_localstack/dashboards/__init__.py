"""Herald's Grafana dashboards as code (grafana-foundation-sdk), written to
deploy/observability/grafana/dashboards/ beside Grafana's provisioning files (ADR 0015).

`python -m herald_localstack.dashboards write|check` (`make contract` writes them); a unit test
fails when the committed JSON differs from `boards`, and the e2e Prometheus test
(tests/e2e/test_prometheus.py) runs every panel's query against a running Herald. Panels read the
families in docs/metrics.md and the recording rules of deploy/observability/prometheus.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from herald_localstack.dashboards.boards import QUIET, boards
from herald_localstack.dashboards.panels import JSONEncoder

__all__ = ["QUIET", "boards", "check", "directory", "panels", "render", "write"]


def render(board: Any) -> str:
    text: str = JSONEncoder(sort_keys=True, indent=2).encode(board.build())
    return text + "\n"


def directory() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "deploy" / "observability").is_dir():
            return parent / "deploy" / "observability" / "grafana" / "dashboards"
    msg = "cannot find the repository's deploy/observability folder"
    raise RuntimeError(msg)


def panels(folder: Path | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(dashboard file, panel) of every committed dashboard: what Grafana would show."""
    for path in sorted((folder or directory()).glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            yield path.name, panel


def check(folder: Path | None = None) -> list[str]:
    folder = folder or directory()
    made = {f"{name}.json": render(board) for name, board in boards().items()}
    drift = [
        n
        for n, text in made.items()
        if not (folder / n).is_file() or (folder / n).read_text() != text
    ]
    extra = [p.name for p in folder.glob("*.json") if p.name not in made]
    return sorted(drift + extra)


def write(folder: Path | None = None) -> None:
    folder = folder or directory()
    folder.mkdir(parents=True, exist_ok=True)
    for name, board in boards().items():
        (folder / f"{name}.json").write_text(render(board))


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"]:
        write()
        print(f"wrote {len(boards())} dashboards to {directory()}")
        return 0
    drift = check()
    for name in drift:
        print(f"out of date: deploy/observability/grafana/dashboards/{name}")
    return 1 if drift else 0

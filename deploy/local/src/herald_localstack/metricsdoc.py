"""docs/metrics.md, generated from the registries the services' `/metrics` serve.

Each service's app is built (no I/O) the way its `__main__` builds it, and every family its
registry holds is listed with its type, labels, the services that serve it and its help text.
`python -m herald_localstack.metricsdoc write|check` (`make contract` writes it); a unit test
fails when docs/metrics.md differs from the apps, and the e2e Prometheus test
(tests/e2e/test_prometheus.py) fails when a running service serves a family not listed here.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from herald.metrics import LAG, LAG_LABELS, ConsumerLag
from herald.topicsizes import TopicSizes


@dataclass(frozen=True)
class Family:
    name: str  # as Prometheus stores it: counters end in _total
    type: str
    labels: tuple[str, ...]
    help: str


def _builders() -> dict[str, Callable[[], FastAPI]]:
    # Imported here: building the document is the only thing here that needs every service.
    from auth_service.app import create_app as auth  # noqa: PLC0415
    from auth_service.settings import Settings as AuthSettings  # noqa: PLC0415
    from console.app import create_app as console  # noqa: PLC0415
    from console.settings import Settings as ConsoleSettings  # noqa: PLC0415
    from platform_sandbox.app import create_app as sandbox  # noqa: PLC0415
    from platform_sandbox.settings import Settings as SandboxSettings  # noqa: PLC0415
    from publisher_facebook.app import create_app as facebook  # noqa: PLC0415
    from publisher_facebook.settings import Settings as FacebookSettings  # noqa: PLC0415
    from publisher_instagram.app import create_app as instagram  # noqa: PLC0415
    from publisher_instagram.settings import Settings as InstagramSettings  # noqa: PLC0415
    from publisher_tiktok.app import create_app as tiktok  # noqa: PLC0415
    from publisher_tiktok.settings import Settings as TikTokSettings  # noqa: PLC0415
    from publisher_whatsapp.app import create_app as whatsapp  # noqa: PLC0415
    from publisher_whatsapp.settings import Settings as WhatsAppSettings  # noqa: PLC0415
    from scheduler.app import create_app as scheduler  # noqa: PLC0415
    from scheduler.settings import Settings as SchedulerSettings  # noqa: PLC0415

    return {
        "auth-service": lambda: auth(AuthSettings()),
        "scheduler": lambda: scheduler(SchedulerSettings()),
        "publisher-facebook": lambda: facebook(FacebookSettings()),
        "publisher-instagram": lambda: instagram(InstagramSettings()),
        "publisher-whatsapp": lambda: whatsapp(WhatsAppSettings()),
        "publisher-tiktok": lambda: tiktok(TikTokSettings()),
        "platform-sandbox": lambda: sandbox(SandboxSettings()),
        "console": lambda: console(ConsoleSettings()),
    }


def families(registry: CollectorRegistry) -> list[Family]:
    """Every family `registry` serves, labels included even where no sample exists yet."""
    found: list[Family] = []
    # prometheus_client keeps its collectors in this mapping and offers no public list of them.
    for collector in list(registry._collector_to_names):
        if isinstance(collector, MetricWrapperBase):
            wrapper: Any = collector
            suffix = "_total" if wrapper._type == "counter" else ""
            found.append(
                Family(
                    wrapper._name + suffix,
                    wrapper._type,
                    tuple(wrapper._labelnames),
                    wrapper._documentation,
                )
            )
            continue
        for metric in collector.collect():
            labels = sorted({k for s in metric.samples for k in s.labels} - {"le", "quantile"})
            if isinstance(collector, ConsumerLag) and metric.name == LAG:
                labels = list(LAG_LABELS)  # no partition is assigned to an app never started
            if isinstance(collector, TopicSizes):
                labels = ["topic"]  # sized once the app runs
            suffix = "_total" if metric.type == "counter" else ""
            found.append(
                Family(metric.name + suffix, metric.type, tuple(labels), metric.documentation)
            )
    return found


def served() -> dict[str, list[Family]]:
    """Service name → the families its `/metrics` serves."""
    out = {}
    for service, build in _builders().items():
        app = build()
        out[service] = families(app.state.registry)
    return out


def render(by_service: dict[str, list[Family]]) -> str:
    where: dict[Family, list[str]] = defaultdict(list)
    for service, found in by_service.items():
        for family in found:
            where[family].append(service)
    everyone = set(by_service)
    lines = [
        "# Metrics",
        "",
        "Every family the services serve at `/metrics`, generated from their registries by",
        "`python -m herald_localstack.metricsdoc write` (`make contract`). A unit test fails when",
        "this page differs from the services, and the e2e Prometheus test when a running service",
        "serves a family not listed here. Names follow Prometheus's conventions (`herald_` prefix,",
        "base units, counters ending in `_total`); no label holds an id. Dashboards and alert",
        "rules built on these: `deploy/observability/` ([ADR 0015](adr/0015-operations-metrics-"
        "dashboards-traces.md)).",
        "",
        "| family | type | labels | served by | meaning |",
        "|---|---|---|---|---|",
    ]
    for family in sorted(where, key=lambda f: f.name):
        services = where[family]
        by = "every service" if set(services) == everyone else ", ".join(sorted(services))
        labels = ", ".join(f"`{label}`" for label in family.labels) or "—"
        meaning = " ".join(family.help.split()).replace("|", "\\|")
        lines.append(f"| `{family.name}` | {family.type} | {labels} | {by} | {meaning} |")
    return "\n".join(lines) + "\n"


def _path() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "docs").is_dir() and (parent / "libs").is_dir():
            return parent / "docs" / "metrics.md"
    msg = "cannot find the repository's docs/ folder"
    raise RuntimeError(msg)


def documented(path: Path | None = None) -> set[str]:
    """The family names docs/metrics.md lists."""
    text = (path or _path()).read_text()
    return {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}


def check(path: Path | None = None) -> bool:
    path = path or _path()
    return path.exists() and path.read_text() == render(served())


def write(path: Path | None = None) -> None:
    (path or _path()).write_text(render(served()))


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"]:
        write()
        print("wrote docs/metrics.md")
        return 0
    if check():
        return 0
    print("out of date: docs/metrics.md (python -m herald_localstack.metricsdoc write)")
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

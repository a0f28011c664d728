"""The tools of the deploy checks: helm, kubeconform, the offline schemas, Docker Compose v2 and
promtool, built once by scripts/ensure-deploy-tools (cached in .cache/deploy-tools), and renders
of the chart parsed into plain dicts for the policy tests."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "herald"
PRODUCTION = ROOT / "deploy" / "helm" / "values-production.yaml"
RULES = ROOT / "deploy" / "observability" / "prometheus" / "herald-rules.yml"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Tools:
    helm: Path
    kubeconform: Path
    compose: Path
    promtool: Path
    schemas: Path
    kubernetes_version: str

    @property
    def kafka_trigger_keys(self) -> set[str]:
        """The metadata keys KEDA's Kafka scaler reads (from its source, kafka_scaler.go)."""
        return set(json.loads((self.schemas / "keda-kafka-trigger-metadata.json").read_text()))


@functools.cache
def tools() -> Tools:
    """Build or find the tools; a failure names what to do instead of skipping."""
    result = subprocess.run(  # noqa: S603 - the project's own script
        [str(ROOT / "scripts" / "ensure-deploy-tools"), sys.executable],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"scripts/ensure-deploy-tools failed:\n{result.stderr[-2000:]}")
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return Tools(
        helm=Path(found["helm"]),
        kubeconform=Path(found["kubeconform"]),
        compose=Path(found["compose"]),
        promtool=Path(found["promtool"]),
        schemas=Path(found["schemas"]),
        kubernetes_version=found["kubernetes_version"],
    )


def _helm_env() -> dict[str, str]:
    home = tools().helm.parent / "home"  # helm's own config and caches, kept out of $HOME
    return {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the pinned helm on our chart
        [str(tools().helm), *args], capture_output=True, text=True, check=False, env=_helm_env()
    )


def _value_args(values: tuple[Path, ...], settings: Mapping[str, Any] | None) -> list[str]:
    args = [arg for path in values for arg in ("-f", str(path))]
    for key, value in (settings or {}).items():
        args += ["--set-string" if isinstance(value, str) else "--set", f"{key}={value}"]
    return args


def template(
    *values: Path, settings: Mapping[str, Any] | None = None, release: str = "herald"
) -> subprocess.CompletedProcess[str]:
    return helm("template", release, str(CHART), *_value_args(values, settings))


def render_text(*values: Path, settings: Mapping[str, Any] | None = None) -> str:
    return _rendered(values, tuple(sorted((settings or {}).items())))


@functools.cache
def _rendered(values: tuple[Path, ...], settings: tuple[tuple[str, Any], ...]) -> str:
    """One `helm template` per set of inputs in a session (renders are deterministic)."""
    result = template(*values, settings=dict(settings))
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(*values: Path, settings: Mapping[str, Any] | None = None) -> list[Manifest]:
    return parse(render_text(*values, settings=settings))


def parse(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def kubeconform(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    t = tools()
    locations = [
        f"{t.schemas}/{{{{ .NormalizedKubernetesVersion }}}}-local{{{{ .StrictSuffix }}}}/"
        "{{ .ResourceKind }}{{ .KindSuffix }}.json",
        f"{t.schemas}/crds/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
    ]
    args = [str(t.kubeconform), "-strict", "-summary", "-output", "json"]
    args += ["-kubernetes-version", t.kubernetes_version]
    for location in locations:
        args += ["-schema-location", location]
    return subprocess.run(  # noqa: S603 - the pinned kubeconform on our render
        [*args, *extra, str(path)], capture_output=True, text=True, check=False
    )


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    """Objects of one kind by their app.kubernetes.io/name label (the service), else by name."""
    found = {}
    for m in manifests:
        if m["kind"] == kind:
            labels = m["metadata"].get("labels", {})
            found[labels.get("app.kubernetes.io/name", m["metadata"]["name"])] = m
    return found


def containers(manifests: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    """Every container of every Deployment and Job, with the name of its owner."""
    for m in manifests:
        if m["kind"] in ("Deployment", "Job"):
            for container in m["spec"]["template"]["spec"]["containers"]:
                yield m["metadata"]["name"], container


def values(*paths: Path) -> dict[str, Any]:
    """The chart's values merged with `paths`, as helm merges maps (lists are replaced)."""
    merged: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    for path in paths:
        _merge(merged, yaml.safe_load(path.read_text()))
    return merged


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())

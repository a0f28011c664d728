"""The Grafana dashboards (deploy/observability/grafana) are what `herald_localstack.dashboards`
generates, load as the SDK's dashboard model, and every panel queries the Prometheus data source
with metrics the services serve or rules record. tests/e2e/test_prometheus.py evaluates them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed

from herald_localstack import dashboards, metricsdoc
from herald_localstack.dashboards.panels import JSONEncoder, models

pytestmark = pytest.mark.unit

GRAFANA = dashboards.directory().parent
RULES = GRAFANA.parent / "prometheus" / "herald-rules.yml"


def test_the_committed_dashboards_are_the_generated_ones() -> None:
    assert dashboards.check() == [], "run: python -m herald_localstack.dashboards write"


@pytest.mark.parametrize(
    "path", sorted(dashboards.directory().glob("*.json")), ids=lambda p: p.name
)
def test_each_dashboard_loads_as_the_sdk_model(path: Path) -> None:
    document = json.loads(path.read_text())
    model = models.Dashboard.from_json(document)
    assert json.loads(JSONEncoder(sort_keys=True).encode(model)) == document
    assert document["uid"].startswith("herald-")
    assert document["schemaVersion"] >= 41
    assert [v["name"] for v in document["templating"]["list"]] == ["datasource"]


def test_every_panel_queries_prometheus_for_metrics_that_exist() -> None:
    rules = yaml.safe_load(RULES.read_text())
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    served = metricsdoc.documented()
    titles = []
    for name, panel in dashboards.panels():
        titles.append(panel["title"])
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, name
        assert panel["targets"], (name, panel["title"])
        for target in panel["targets"]:
            expr = target["expr"]
            names = set(
                re.findall(r"\b((?:herald|process|python)_[a-z_]+|herald:[a-z_0-9:]+)", expr)
            )
            assert names, (name, expr)
            families = {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}
            unknown = families - served - recorded
            assert not unknown, (name, panel["title"], unknown)
    assert set(dashboards.QUIET) <= set(titles)


def test_provisioning_loads_the_dashboards_folder_and_a_prometheus_source() -> None:
    provisioning = GRAFANA / "provisioning"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "herald.yml").read_text())[
        "providers"
    ]
    assert provider["type"] == "file"
    assert provider["options"]["path"].endswith("/herald")
    [source] = yaml.safe_load((provisioning / "datasources" / "herald.yml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus"

"""The Prometheus rules Herald ships (deploy/observability/prometheus/herald-rules.yml, the file
compose's Prometheus loads and the chart renders as a PrometheusRule): promtool accepts them,
their unit tests pass, and every metric they read is one the services serve."""

from __future__ import annotations

import re
import subprocess

import pytest
from tests.deploy import chart

from herald_localstack import metricsdoc

pytestmark = pytest.mark.unit

RULE_TESTS = chart.RULES.with_name("herald-rules.test.yml")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the pinned promtool on our rules
        [str(chart.tools().promtool), *args], capture_output=True, text=True, check=False
    )


def test_promtool_accepts_the_rules() -> None:
    result = _promtool("check", "rules", str(chart.RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_unit_tests_pass() -> None:
    result = _promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_and_documented() -> None:
    rules = chart.load_yaml(chart.RULES)
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tested = {
        case["alertname"]
        for test in chart.load_yaml(RULE_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert alerts == tested
    runbook = (chart.ROOT / "docs" / "runbook.md").read_text()
    sections = set(re.findall(r"^### (Herald\w+)$", runbook, re.MULTILINE))
    assert sections == alerts, "each alert has a section of its own in docs/runbook.md"


def test_every_alert_has_a_severity_a_summary_and_its_runbook_section() -> None:
    rules = chart.load_yaml(chart.RULES)
    for rule in (r for g in rules["groups"] for r in g["rules"] if "alert" in r):
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"], name
        assert rule["annotations"]["runbook"] == f"docs/runbook.md#{name.lower()}", name


def test_every_metric_the_rules_read_is_served() -> None:
    """A family name the code no longer registers would make an alert silently never fire.
    docs/metrics.md lists what the services' registries hold (a contract test keeps it so)."""
    text = chart.RULES.read_text()
    families = {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for name in re.findall(r"\b(herald_[a-z_]+)\b", text)
    }
    missing = families - metricsdoc.documented()
    assert families
    assert not missing, f"no service registers {sorted(missing)}"

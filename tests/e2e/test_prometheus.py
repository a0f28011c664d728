"""A real Prometheus (Debian's) scrapes the running Herald with the project's scrape configuration
and rules: after posts to all four platforms every target is up, every family served is in
docs/metrics.md, every dashboard panel's query is answered (with data, but for the panels
`dashboards.QUIET` names), no rule fails to evaluate; and with the sandbox answering 5xx to every
Facebook call the failure-ratio alert fires, then resolves once Facebook answers again
(`for:` and window shortened by a test rule file made from the real rule)."""

from __future__ import annotations

import re
import time
import uuid
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed
from tests.chaos.fleet import post_for
from tests.conftest import Connected
from tests.e2e import prometheus
from tests.e2e.prometheus import Prometheus, eventually

from herald_localstack import dashboards, metricsdoc, services

pytestmark = pytest.mark.e2e

KINDS = ("facebook/text", "facebook/photo", "instagram/image", "tiktok/video-upload")
WINDOW, FOR = "30s", "10s"  # the test rule's window and `for:`, in place of 10 min and 10 min
FAILURE_ALERT = "HeraldPublishFailureRatioHigh"
MAX_ATTEMPTS = "HERALD_PUBLISHER_FACEBOOK_RETRY__MAX_ATTEMPTS"


def _shortened_failure_rule(workdir: Path) -> Path:
    """The failure-ratio recording rule and alert as herald-rules.yml has them, over `WINDOW`
    and firing after `FOR`, labelled `shortened`."""
    rules = yaml.safe_load(prometheus.RULES.read_text())
    every = [r for g in rules["groups"] for r in g["rules"]]
    ratio = next(r for r in every if r.get("record") == "herald:publish_failure_ratio:rate10m")
    alert = next(r for r in every if r.get("alert") == FAILURE_ALERT)
    test_ratio = "herald:publish_failure_ratio:test"
    shortened = {
        **alert,
        "expr": alert["expr"].replace(ratio["record"], test_ratio),
        "for": FOR,
        "labels": {**alert["labels"], "shortened": "true"},
    }
    group = {
        "name": "herald.test",
        "rules": [
            {"record": test_ratio, "expr": ratio["expr"].replace("[10m]", f"[{WINDOW}]")},
            shortened,
        ],
    }
    path = workdir / "shortened.yml"
    path.write_text(yaml.safe_dump({"groups": [group]}))
    return path


@pytest.fixture(scope="module")
def prom(connected: Connected, tmp_path_factory: pytest.TempPathFactory) -> Any:
    workdir = tmp_path_factory.mktemp("prometheus")
    urls = {s.name: connected.system.url(s.name) for s in services.SERVICES}
    rule_files = [prometheus.RULES, _shortened_failure_rule(workdir)]
    with prometheus.running(workdir, prometheus.config(urls, rule_files)) as running:
        yield running


def _publish(connected: Connected, kinds: tuple[str, ...], run: str) -> dict[str, str]:
    sandbox = connected.system.url("platform-sandbox")
    numbers = [f"+4478{zlib.crc32(run.encode()) % 1000:03d}{n:05d}" for n in range(2)]
    posts = {}
    for n, kind in enumerate(kinds):
        body = post_for(kind, f"{run}-{n}", sandbox, connected.integrations, numbers).body
        posts[kind] = connected.post(body, idempotency_key=f"prom-{run}-{n}")
    return posts


def _finished(connected: Connected, posts: dict[str, str]) -> dict[str, str]:
    return {kind: str(connected.status(post)["status"]) for kind, post in posts.items()}


def _all(connected: Connected, posts: dict[str, str], wanted: str, timeout_s: float) -> None:
    def done() -> bool:
        return set(_finished(connected, posts).values()) == {wanted}

    eventually(done, timeout_s, f"posts {wanted}", interval_s=1.0)


def _family(name: str, documented: set[str]) -> bool:
    if name in documented:
        return True
    base = re.sub(r"_(bucket|sum|count|created)$", "", name)
    return base in documented or f"{base}_total" in documented


@pytest.mark.timeout(600)
def test_targets_up_families_documented_and_every_panel_answers(
    connected: Connected, prom: Prometheus
) -> None:
    run = uuid.uuid4().hex[:8]
    kinds = (*KINDS, "whatsapp/template")
    posts = _publish(connected, kinds, run)
    _all(connected, posts, "published", timeout_s=240)
    # Polled: the scrapes after the last result (and a lag refresh) give every panel its data.
    deadline = time.monotonic() + 60
    while (empty := _empty_panels(prom)) and time.monotonic() < deadline:
        time.sleep(2)
    assert empty == [], "panels without data"
    assert prom.rule_errors() == []

    targets = prom.targets()
    assert {t["health"] for t in targets} == {"up"}, [
        (t["scrapeUrl"], t["lastError"]) for t in targets if t["health"] != "up"
    ]
    assert len(targets) == len(services.SERVICES)

    by_netloc = {urlsplit(connected.system.url(s.name)).netloc: s.name for s in services.SERVICES}
    served = metricsdoc.served()
    undocumented = []
    for series in prom.query('group by (__name__, instance) ({job=~"herald.*"})'):
        service = by_netloc[series["metric"]["instance"]]
        name = series["metric"]["__name__"]
        if name.startswith(("scrape_", "up")):
            continue
        if not _family(name, {f.name for f in served[service]}):
            undocumented.append((service, name))
    assert undocumented == [], "served but not in docs/metrics.md"


def _empty_panels(prom: Prometheus) -> list[tuple[str, str]]:
    """Runs every panel's queries (a query Prometheus refuses raises): the panels without data
    that `QUIET` does not excuse."""
    empty, answered = [], 0
    for board, panel in dashboards.panels():
        results = []
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "1m")
            results.append(prom.query(expr))
            answered += 1
        if not any(results) and panel["title"] not in dashboards.QUIET:
            empty.append((board, panel["title"]))
    print(f"{answered} panel queries answered; {len(empty)} without data")  # noqa: T201
    return empty


def _fault(connected: Connected) -> int:
    rule = {"platform": "facebook", "action": "error", "error": {"status": 500, "code": 2}}
    url = f"{connected.system.url('platform-sandbox')}/_sandbox/faults"
    answer = httpx.post(url, json=rule, timeout=30)
    assert answer.status_code == 201, answer.text
    fault_id: int = answer.json()["id"]
    return fault_id


def _firing(prom: Prometheus) -> list[dict[str, Any]]:
    return [
        a
        for a in prom.alerts(FAILURE_ALERT)
        if a["labels"].get("shortened") == "true" and a["labels"].get("platform") == "facebook"
    ]


@pytest.mark.timeout(600)
def test_the_failure_ratio_alert_fires_while_facebook_fails_and_resolves_after(
    connected: Connected, prom: Prometheus
) -> None:
    """One attempt per request, so a 5xx fails the post at once instead of after the delay
    tiers' 11 minutes; publisher-facebook is restarted with its usual settings afterwards."""
    run = uuid.uuid4().hex[:8]
    fb = "publisher-facebook"
    settings = {**connected.extra_env.get(fb, {}), MAX_ATTEMPTS: "1"}
    connected.system.stop(fb)
    connected.system.start(fb, extra_env=settings)
    fault = _fault(connected)
    try:
        failed = _publish(connected, ("facebook/text",) * 2, f"{run}f")
        _all(connected, failed, "failed", timeout_s=120)
        began, sent = time.monotonic(), 0
        # Failures keep coming, as they would while a platform is down, until the alert fires.
        while not (alert := [a for a in _firing(prom) if a["state"] == "firing"]):
            if time.monotonic() - began > 120:
                ratio = prom.query("herald:publish_failure_ratio:test")
                pytest.fail(f"{FAILURE_ALERT} did not fire within 120 s: ratio {ratio}")
            _publish(connected, ("facebook/text",), f"{run}f{sent}")
            sent += 1
            time.sleep(2)
        took = time.monotonic() - began
        summary = alert[0]["annotations"]["summary"]
        print(f"fired {took:.0f} s after the failures: {summary}")  # noqa: T201
    finally:
        url = f"{connected.system.url('platform-sandbox')}/_sandbox/faults/{fault}"
        httpx.delete(url, timeout=30)
        connected.system.stop(fb)
        connected.start(fb)

    healthy = _publish(connected, ("facebook/text",) * 2, f"{run}h")
    _all(connected, healthy, "published", timeout_s=120)
    began = time.monotonic()
    eventually(lambda: not _firing(prom), 150, "the alert resolved")
    print(f"resolved {time.monotonic() - began:.0f} s after Facebook answered again")  # noqa: T201

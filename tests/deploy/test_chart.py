"""deploy/helm/herald, checked with no cluster: `helm lint --strict`, `helm template` of the
default and the production values, kubeconform in strict mode against Kubernetes 1.35's schemas
and KEDA's and prometheus-operator's CRD schemas (all built offline by
scripts/ensure-deploy-tools), then the chart's policies over the rendered manifests.
`make check-deploy` runs this file; docs/deploy-kubernetes.md says what each policy is for."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.deploy import chart
from tests.deploy.chart import PRODUCTION, Manifest, containers, of_kind
from tests.deploy.settings_env import ALSO_SECRET, SETTINGS, prefixes, secret_variables

from herald.settings import unknown_variables
from herald.topics import Platform, TopicNames

pytestmark = pytest.mark.unit

RENDERS = {"default": (), "production": (PRODUCTION,)}
PUBLISHERS = [f"publisher-{p}" for p in Platform]


@pytest.fixture(scope="module", params=list(RENDERS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Manifest]]:
    name: str = request.param
    return name, chart.render(*RENDERS[name])


def _values(render: str) -> dict[str, Any]:
    return chart.values(*RENDERS[render])


@pytest.mark.parametrize("render", list(RENDERS))
def test_helm_lint_strict_passes(render: str) -> None:
    args = [a for path in RENDERS[render] for a in ("-f", str(path))]
    result = chart.helm("lint", "--strict", str(chart.CHART), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(
    ("render", "settings"),
    [
        ("default", {}),
        ("production", {}),
        ("monitoring", {"monitoring.serviceMonitor.enabled": True,
                        "monitoring.prometheusRule.enabled": True}),
        ("keda-off", {"keda.enabled": False, "services.auth-service.autoscaling.enabled": False}),
    ],
)  # fmt: skip
def test_render_is_valid_in_kubeconform_strict_mode(
    render: str, settings: dict[str, Any], tmp_path: Path
) -> None:
    files = RENDERS.get(render, ())
    text = chart.render_text(*files, settings=settings)
    out = tmp_path / f"{render}.yaml"
    out.write_text(text)
    result = chart.kubeconform(out)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary == {
        "valid": len(chart.parse(text)),
        "invalid": 0,
        "errors": 0,
        "skipped": 0,
    }


def test_kubeconform_rejects_what_the_schemas_forbid(tmp_path: Path) -> None:
    """The checks can fail: an unknown field in a Deployment and in a ScaledObject (strict
    schemas), and a Deployment with a replicas string."""
    docs = chart.render()
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    scaled = next(d for d in docs if d["kind"] == "ScaledObject")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    scaled["spec"]["maxReplicaCounts"] = 3
    out = tmp_path / "broken.yaml"
    out.write_text(json.dumps(deployment) + "\n---\n" + json.dumps(scaled) + "\n")
    result = chart.kubeconform(out)
    assert result.returncode == 1
    assert json.loads(result.stdout)["summary"]["invalid"] == 2


def test_every_container_has_requests_limits_and_probes(
    rendered: tuple[str, list[Manifest]],
) -> None:
    _, docs = rendered
    found = list(containers(docs))
    assert found
    for owner, container in found:
        for section in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][section]), (owner, section)
    for owner, container in containers([d for d in docs if d["kind"] == "Deployment"]):
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", owner
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", owner
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", owner


def test_every_container_runs_as_non_root_on_a_read_only_root(
    rendered: tuple[str, list[Manifest]],
) -> None:
    _, docs = rendered
    for m in docs:
        if m["kind"] not in ("Deployment", "Job"):
            continue
        pod = m["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            ctx = container["securityContext"]
            assert ctx["runAsNonRoot"] is True
            assert ctx["readOnlyRootFilesystem"] is True
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["capabilities"]["drop"] == ["ALL"]
            # The one writable place: an emptyDir at /tmp.
            mounts = {v["mountPath"]: v["name"] for v in container["volumeMounts"]}
            assert mounts == {"/tmp": "tmp"}  # noqa: S108 - the path in the pod, not ours
        assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]


def _env(docs: list[Manifest], service: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A service's plain settings (its ConfigMap) and its env entries (secretKeyRefs)."""
    config_map = of_kind(docs, "ConfigMap")[service]
    deployment = of_kind(docs, "Deployment")[service]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"configMapRef": {"name": config_map["metadata"]["name"]}}]
    return config_map["data"], {e["name"]: e for e in container.get("env", [])}


def deployment_name(docs: list[Manifest], service: str) -> str:
    return str(of_kind(docs, "Deployment")[service]["metadata"]["name"])


def _enabled(render: str) -> list[str]:
    return [n for n, svc in _values(render)["services"].items() if svc["enabled"]]


def test_no_secret_setting_is_in_a_config_map_and_each_comes_from_the_secret(
    rendered: tuple[str, list[Manifest]],
) -> None:
    render, docs = rendered
    values = _values(render)
    secret_name = values["secrets"]["existingSecret"]
    for service in _enabled(render):
        secrets = secret_variables(SETTINGS[service]) | ALSO_SECRET
        config, env = _env(docs, service)
        assert not set(config) & secrets, service
        for name, entry in env.items():
            assert name in secrets, f"{service}: {name} is not a secret setting"
            assert entry["valueFrom"]["secretKeyRef"] == {"name": secret_name, "key": name}
    assert not of_kind(docs, "Secret"), "the chart renders no Secret: it uses an existing one"


def test_a_secret_put_in_env_is_refused() -> None:
    leak = {"services.scheduler.env.HERALD_SCHEDULER_AUTH__SERVICE_TOKEN": "x"}
    result = chart.template(settings=leak)
    assert result.returncode != 0
    assert "looks like a secret" in result.stderr


def test_every_variable_is_a_real_setting_of_its_service(
    rendered: tuple[str, list[Manifest]],
) -> None:
    """A variable the service does not know stops it at start (herald.settings.load_settings):
    each rendered HERALD_ name must fall under the service's prefixes and name a field."""
    render, docs = rendered
    for service in _enabled(render):
        config, env = _env(docs, service)
        names = [n for n in (*config, *env) if n.startswith("HERALD_")]
        cls = SETTINGS[service]
        assert all(n.startswith(tuple(prefixes(cls))) for n in names), (service, names)
        assert unknown_variables(cls, dict.fromkeys(names, "")) == [], service


def test_each_publisher_scales_on_its_own_group_with_at_most_its_partitions(
    rendered: tuple[str, list[Manifest]],
) -> None:
    render, docs = rendered
    values = _values(render)
    partitions = values["topics"]["partitions"]
    names = TopicNames(prefix=values["topicPrefix"])
    allowed_keys = chart.tools().kafka_trigger_keys
    scaled = of_kind(docs, "ScaledObject")
    publishers = [s for s in _enabled(render) if s.startswith("publisher-")]
    assert set(scaled) == set(publishers)
    for service in publishers:
        spec = scaled[service]["spec"]
        svc = values["services"][service]
        assert spec["scaleTargetRef"] == {"name": deployment_name(docs, service)}
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
        # Every replica runs `concurrency` consumers of the group: none may sit idle.
        assert spec["maxReplicaCount"] * svc["concurrency"] <= partitions, service
        [trigger] = spec["triggers"]
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka"
        # The CRD takes any key: a misspelled one would be ignored by KEDA, silently.
        assert set(meta) <= allowed_keys, set(meta) - allowed_keys
        assert all(isinstance(v, str) for v in meta.values())
        platform = service.removeprefix("publisher-")
        assert meta["topic"] == names.requested(platform)
        # The group PublisherRuntime.group names (herald.runtime.app): prefix, herald-, service.
        assert meta["consumerGroup"] == f"{values['topicPrefix']}herald-{service}"
        assert meta["bootstrapServers"] == values["kafka"]["bootstrapServers"]
        assert meta["offsetResetPolicy"] == "earliest"  # as the publishers' consumers
        assert int(meta["lagThreshold"]) >= 1
        deployment = of_kind(docs, "Deployment")[service]
        assert "replicas" not in deployment["spec"], "KEDA owns a scaled publisher's replicas"


def test_scaling_past_the_partitions_is_refused() -> None:
    result = chart.template(settings={"services.publisher-facebook.scaling.maxReplicas": 7})
    assert result.returncode != 0
    assert "more than the 12 partitions of post.requested.facebook" in result.stderr


def test_scheduler_is_fixed_and_auth_service_scales_on_cpu(
    rendered: tuple[str, list[Manifest]],
) -> None:
    render, docs = rendered
    values = _values(render)
    scheduler = of_kind(docs, "Deployment")["scheduler"]
    assert scheduler["spec"]["replicas"] == values["services"]["scheduler"]["replicas"]
    [hpa] = of_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment_name(docs, "auth-service")
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "replicas" not in of_kind(docs, "Deployment")["auth-service"]["spec"]


def test_each_service_has_a_service_a_pdb_and_a_network_policy(
    rendered: tuple[str, list[Manifest]],
) -> None:
    render, docs = rendered
    enabled = set(_enabled(render))
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"):
        assert set(of_kind(docs, kind)) == enabled, kind
    for service, policy in of_kind(docs, "NetworkPolicy").items():
        selector = of_kind(docs, "Deployment")[service]["spec"]["selector"]["matchLabels"]
        assert policy["spec"]["podSelector"]["matchLabels"] == selector
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        for rule in policy["spec"]["egress"]:
            assert rule.get("ports"), f"{service}: an egress rule open on every port"


def test_publishers_reach_only_kafka_mongo_auth_service_and_public_addresses(
    rendered: tuple[str, list[Manifest]],
) -> None:
    render, docs = rendered
    values = _values(render)
    np = values["networkPolicy"]
    auth_port = values["services"]["auth-service"]["port"]
    for service, policy in of_kind(docs, "NetworkPolicy").items():
        if not service.startswith("publisher-"):
            continue
        ports = [sorted(p["port"] for p in rule["ports"]) for rule in policy["spec"]["egress"]]
        internet = sorted(values["services"][service]["internetPorts"])
        assert ports == [
            sorted(np["dns"]["ports"] * 2),
            sorted(np["kafka"]["ports"]),
            sorted(np["mongo"]["ports"]),
            [auth_port],
            internet,
        ]
        public = policy["spec"]["egress"][-1]["to"]
        assert public == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": np["privateCidrs"]}}]
        to_auth = policy["spec"]["egress"][3]["to"][0]["podSelector"]["matchLabels"]
        assert to_auth["app.kubernetes.io/name"] == "auth-service"


def test_the_console_reaches_only_the_apis_it_calls_and_they_let_it_in(
    rendered: tuple[str, list[Manifest]],
) -> None:
    """The console has no store and no Kafka: no MongoDB URI, no Kafka or MongoDB egress; it
    reaches auth-service and the scheduler by their in-cluster addresses, and they admit it."""
    render, docs = rendered
    values = _values(render)
    config, env = _env(docs, "console")
    assert "HERALD_MONGO_URI" not in env
    assert not any(k.startswith("HERALD_KAFKA") for k in config)
    assert config["HERALD_CONSOLE_AUTH_URL"] == "http://herald-auth-service:8101"
    assert config["HERALD_CONSOLE_SCHEDULER_URL"] == "http://herald-scheduler:8102"
    policies = of_kind(docs, "NetworkPolicy")
    egress = policies["console"]["spec"]["egress"]
    ports = [sorted(p["port"] for p in rule["ports"]) for rule in egress]
    dns = values["networkPolicy"]["dns"]["ports"]
    assert ports == [sorted(dns * 2), [8101], [8102]]
    assert [rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for rule in egress[1:]] == ["auth-service", "scheduler"]  # fmt: skip
    console = {"app.kubernetes.io/name": "console", "app.kubernetes.io/instance": "herald"}
    for callee in ("auth-service", "scheduler"):
        admitted = [
            peer["podSelector"]["matchLabels"]
            for rule in policies[callee]["spec"]["ingress"]
            for peer in rule.get("from", [])
            if "podSelector" in peer
        ]
        assert console in admitted, callee
    assert not any(
        console in [peer.get("podSelector", {}).get("matchLabels") for peer in rule.get("from", [])]
        for service, policy in policies.items()
        if service not in ("auth-service", "scheduler")
        for rule in policy["spec"]["ingress"]
    )


def test_the_console_runs_several_replicas_with_its_session_keys_from_the_secret(
    rendered: tuple[str, list[Manifest]],
) -> None:
    """Sign-ins are sealed in the browser's cookie (ADR 0024): more than one console pod, each
    with the same keyring from the Secret, in production (which refuses to start without it)."""
    render, docs = rendered
    values = _values(render)
    console = of_kind(docs, "Deployment")["console"]
    assert console["spec"]["replicas"] == values["services"]["console"]["replicas"] > 1
    config, env = _env(docs, "console")
    assert config["HERALD_CONSOLE_ENVIRONMENT"] == "production"
    assert config["HERALD_CONSOLE_SESSIONS__PRIMARY_KID"] == "k1"
    assert "HERALD_CONSOLE_SESSIONS__KEYS" not in config
    ref = env["HERALD_CONSOLE_SESSIONS__KEYS"]["valueFrom"]["secretKeyRef"]
    assert ref == {
        "name": values["secrets"]["existingSecret"],
        "key": "HERALD_CONSOLE_SESSIONS__KEYS",
    }


def test_auth_service_believes_forwarded_addresses_from_the_pod_network_only(
    rendered: tuple[str, list[Manifest]], tmp_path: Path
) -> None:
    """uvicorn takes X-Forwarded-For (the browser's address, for the sign-in limit) only from
    FORWARDED_ALLOW_IPS: the values' networks, at the console (from the ingress) and at
    auth-service (from the console) alone; empty leaves loopback."""
    render, docs = rendered
    trusted = _values(render)["forwardedAllowIps"]
    maps = of_kind(docs, "ConfigMap")
    assert maps["auth-service"]["data"]["FORWARDED_ALLOW_IPS"] == ",".join(trusted)
    assert maps["console"]["data"]["FORWARDED_ALLOW_IPS"] == ",".join(trusted)
    trusting = sorted(n for n, m in maps.items() if "FORWARDED_ALLOW_IPS" in m["data"])
    assert trusting == ["auth-service", "console"]
    empty = tmp_path / "no-proxies.yaml"
    empty.write_text("forwardedAllowIps: []\n")
    none = of_kind(chart.render(*RENDERS[render], empty), "ConfigMap")
    assert "FORWARDED_ALLOW_IPS" not in none["auth-service"]["data"]
    assert "FORWARDED_ALLOW_IPS" not in none["console"]["data"]


def test_topics_job_provisions_the_designs_plan() -> None:
    """The hook Job runs herald.provision, whose plan is TopicNames(prefix).plan(partitions):
    its environment must be exactly what ProvisionSettings reads."""
    docs = chart.render(settings={"topicPrefix": "acme.", "topics.partitions": 24})
    [job] = [d for d in docs if d["kind"] == "Job"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "herald.provision"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HERALD_TOPIC_PARTITIONS"] == "24"
    assert env["HERALD_TOPIC_PREFIX"] == "acme."
    assert env["HERALD_TOPIC_REPLICATION_FACTOR"] == "3"
    from herald.provision import ProvisionSettings

    assert unknown_variables(ProvisionSettings, env) == []
    assert container["image"].endswith("/scheduler:0.1.0")  # an image that has herald


def test_strimzi_topics_equal_the_designs_plan(tmp_path: Path) -> None:
    settings = {"topics.provisioner": "strimzi", "topicPrefix": "acme.", "topics.partitions": 24}
    text = chart.render_text(settings=settings)
    docs = chart.parse(text)
    topics = [d for d in docs if d["kind"] == "KafkaTopic"]
    assert [(t["spec"]["topicName"], t["spec"]["partitions"]) for t in topics] == [
        (spec.name, spec.partitions) for spec in TopicNames(prefix="acme.").plan(24)
    ]
    assert not [d for d in docs if d["kind"] == "Job"]
    for topic in topics:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", topic["metadata"]["name"])
        assert topic["spec"]["replicas"] == 3
    # Strimzi's CRDs are not published as a Go module or in its Maven jars: kubeconform skips
    # KafkaTopic (named here so nothing else can be skipped) and checks the rest.
    out = tmp_path / "strimzi.yaml"
    out.write_text(text)
    result = chart.kubeconform(out, "-skip", "KafkaTopic")
    assert result.returncode == 0, result.stdout
    summary = json.loads(result.stdout)["summary"]
    assert summary["skipped"] == len(topics)
    assert summary["valid"] == len(docs) - len(topics)


def test_prometheus_rule_is_the_rules_file() -> None:
    docs = chart.render(settings={"monitoring.prometheusRule.enabled": True})
    [rule] = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert rule["spec"] == chart.load_yaml(chart.RULES)
    assert (chart.CHART / "files" / "herald-rules.yml").resolve() == chart.RULES.resolve()


def test_service_monitor_scrapes_every_service_as_job_herald() -> None:
    docs = chart.render(settings={"monitoring.serviceMonitor.enabled": True})
    [monitor] = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/part-of"
    selector = monitor["spec"]["selector"]["matchLabels"]
    for service in of_kind(docs, "Service").values():
        labels = service["metadata"]["labels"]
        assert selector.items() <= labels.items()
        assert labels["app.kubernetes.io/part-of"] == "herald"  # the rules' job="herald"
        assert service["spec"]["ports"][0]["name"] == monitor["spec"]["endpoints"][0]["port"]


@pytest.mark.parametrize(
    "typo",
    [
        "services.publisher-facebook.scaling.lagThreshhold",
        "services.scheduler.replica",
        "kafka.url",
    ],
)
def test_values_schema_refuses_an_unknown_value(typo: str) -> None:
    result = chart.template(settings={typo: 1})
    assert result.returncode != 0
    assert "additional properties" in result.stderr


def test_scaling_one_publisher_changes_only_that_publishers_objects() -> None:
    """What docs/deploy-kubernetes.md promises a platform team: its values block touches its
    own Deployment, ConfigMap and ScaledObject and nothing else, so no other pod rolls."""
    before = {(d["kind"], d["metadata"]["name"]): d for d in chart.render()}
    changed = {
        "services.publisher-facebook.concurrency": 3,
        "services.publisher-facebook.scaling.maxReplicas": 4,
        "services.publisher-facebook.scaling.lagThreshold": 100,
    }
    after = {(d["kind"], d["metadata"]["name"]): d for d in chart.render(settings=changed)}
    assert set(after) == set(before)
    differing = {key for key in before if before[key] != after[key]}
    assert differing == {
        ("Deployment", "herald-publisher-facebook"),
        ("ConfigMap", "herald-publisher-facebook"),
        ("ScaledObject", "herald-publisher-facebook"),
    }
    # Scaling alone (no setting changed) does not even roll the publisher's own pods.
    only_scaling = {"services.publisher-facebook.scaling.maxReplicas": 4}
    scaled = {(d["kind"], d["metadata"]["name"]): d for d in chart.render(settings=only_scaling)}
    assert {key for key in before if before[key] != scaled[key]} == {
        ("ScaledObject", "herald-publisher-facebook")
    }

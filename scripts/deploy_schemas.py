"""Lay out the JSON schemas kubeconform checks the Helm chart against, with no network.

Run by scripts/ensure-deploy-tools. Two sources:
- the kubernetes-validate wheel (PyPI) ships strict schemas per Kubernetes version, whose `$id`
  and `$ref`s point at a kubernetes.io address; with the `$id` dropped and the refs made
  relative, kubeconform resolves them on disk instead of trying to download them;
- CRD files (KEDA, prometheus-operator) go through kubeconform's own openapi2jsonschema.py with
  DENY_ROOT_ADDITIONAL_PROPERTIES=1, so an unknown field anywhere in a custom resource fails.

The CRD leaves a trigger's `metadata` a free-form string map, so a misspelled Kafka scaler key
(`lagThreshhold`) passes kubeconform. The keys the scaler reads are therefore taken from KEDA's
own source (the `keda:"name=...,order=triggerMetadata..."` tags of kafka_scaler.go) into
`<out>/keda-kafka-trigger-metadata.json`, for the chart's tests to hold its triggers to.

Output: `<out>/v<version>-local-strict/<kind>-<group>-<version>.json`,
`<out>/crds/<kind>_<apiversion>.json` (the layout of kubeconform's schema-location templates)
and that key list.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REMOTE_REF = "/api/_definitions.json"
SCALER_TAG = re.compile(r'keda:"name=([A-Za-z0-9]+),order=([a-zA-Z;]+)')


def kubernetes_schemas(wheel: Path, version: str, out: Path) -> int:
    folder = f"v{version}-local-strict"
    prefix = f"kubernetes_validate/kubernetes-json-schema/{folder}/"
    target = out / folder
    target.mkdir(parents=True)
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.startswith(prefix) or not name.endswith(".json"):
                continue
            schema = json.loads(archive.read(name))
            schema.pop("$id", None)
            text = json.dumps(schema).replace(f'"{REMOTE_REF}#', '"_definitions.json#')
            (target / name.removeprefix(prefix)).write_text(text)
            count += 1
    if count == 0:
        msg = f"{wheel.name} holds no schemas for Kubernetes {version}"
        raise SystemExit(msg)
    return count


def crd_schemas(converter: Path, crds: list[Path], out: Path) -> list[str]:
    target = out / "crds"
    target.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DENY_ROOT_ADDITIONAL_PROPERTIES": "1"}
    subprocess.run(  # noqa: S603 - kubeconform's converter on files from the Go module cache
        [sys.executable, str(converter), *map(str, crds)],
        cwd=target, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return sorted(p.name for p in target.glob("*.json"))


def kafka_trigger_keys(scaler_source: Path, out: Path) -> list[str]:
    keys = sorted(
        {
            name
            for name, order in SCALER_TAG.findall(scaler_source.read_text())
            if "triggerMetadata" in order.split(";")
        }
    )
    if "lagThreshold" not in keys or "consumerGroup" not in keys:
        msg = f"no Kafka scaler metadata tags found in {scaler_source}"
        raise SystemExit(msg)
    (out / "keda-kafka-trigger-metadata.json").write_text(json.dumps(keys, indent=1) + "\n")
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True)
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--openapi2jsonschema", type=Path, required=True)
    parser.add_argument("--kafka-scaler", type=Path, required=True, help="KEDA's kafka_scaler.go")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("crds", type=Path, nargs="+")
    args = parser.parse_args()
    count = kubernetes_schemas(args.wheel, args.kubernetes_version, args.out)
    written = crd_schemas(args.openapi2jsonschema, args.crds, args.out)
    keys = kafka_trigger_keys(args.kafka_scaler, args.out)
    print(  # noqa: T201 - a build step says what it wrote
        f"deploy_schemas: {count} Kubernetes {args.kubernetes_version} schemas; "
        f"CRDs: {', '.join(written)}; {len(keys)} Kafka scaler metadata keys",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

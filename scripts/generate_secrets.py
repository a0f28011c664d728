"""`make secrets`: every secret Herald's services need, generated once, one env file per service.

Which service gets which secret is read from the Helm chart's values (`services.<name>.secretEnv`,
with `--values` files merged over them as helm merges them), so deploy/compose and deploy/helm
cannot disagree. Written to `--out` (default
deploy/compose/secrets/, git-ignored, mode 0600):
- `<service>.env` for each service (compose's `env_file`), holding only that service's keys;
- `platform-sandbox.env` and `demo.env` for compose's `demo` profile (the sandbox's app secrets
  equal Herald's, so its signatures and appsecret_proof checks pass; the demo's admin token);
- `kubernetes.env`: every key once, plus HERALD_MONGO_URI, for
  `kubectl create secret generic <name> --from-env-file=kubernetes.env`.

Existing files are kept (a new vault key would orphan every stored token, a new webhook key every
business's webhook secret); `--force` replaces
them. The platforms' app secrets come from the environment when set (HERALD_META_APP_SECRET,
HERALD_INSTAGRAM_APP_SECRET, HERALD_TIKTOK_CLIENT_SECRET: the real apps' secrets); otherwise they
are random, which only the sandbox accepts. Every random value is hex, so auth-service's
production check (length, no placeholder words) passes it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed

ROOT = Path(__file__).resolve().parents[1]
VALUES = ROOT / "deploy" / "helm" / "herald" / "values.yaml"
APP_SECRETS = {  # setting suffix -> the environment variable with the real app's secret
    "META__APP_SECRET": "HERALD_META_APP_SECRET",
    "GRAPH__APP_SECRET": "HERALD_META_APP_SECRET",  # Meta publishers sign with the Meta app's
    "INSTAGRAM__APP_SECRET": "HERALD_INSTAGRAM_APP_SECRET",
    "TIKTOK__CLIENT_SECRET": "HERALD_TIKTOK_CLIENT_SECRET",
}
SANDBOX = {  # the sandbox's settings that must equal Herald's app secrets
    "HERALD_SANDBOX_META__APP_SECRET": "HERALD_META_APP_SECRET",
    "HERALD_SANDBOX_INSTAGRAM__APP_SECRET": "HERALD_INSTAGRAM_APP_SECRET",
    "HERALD_SANDBOX_TIKTOK__CLIENT_SECRET": "HERALD_TIKTOK_CLIENT_SECRET",
}
DEFAULT_MONGO_URI = "mongodb://mongo:27017/?replicaSet=rs0"


def secret_env(values: dict[str, Any]) -> dict[str, list[str]]:
    """Service name -> the Secret keys (variable names) it reads, from the chart's values."""
    return {name: list(svc["secretEnv"]) for name, svc in values["services"].items()}


def generate(values: dict[str, Any], environ: dict[str, str]) -> dict[str, dict[str, str]]:
    """Service name -> {variable: value}, consistent across services."""
    wanted = secret_env(values)
    apps = {
        source: environ.get(source) or secrets.token_hex(32) for source in set(SANDBOX.values())
    }
    callers = {
        name: secrets.token_hex(32)
        for name, keys in wanted.items()
        if any(k.endswith("_AUTH__SERVICE_TOKEN") for k in keys)
    }
    out: dict[str, dict[str, str]] = {}
    for name, keys in wanted.items():
        env = values["services"][name].get("env") or {}
        out[name] = {key: _value(key, name, callers, apps, env) for key in keys}
    out["platform-sandbox"] = {setting: apps[source] for setting, source in SANDBOX.items()}
    out["demo"] = {"HERALD_DEMO_ADMIN_TOKEN": out["auth-service"]["HERALD_AUTH_ADMIN_TOKEN"]}
    return out


def _value(
    key: str, service: str, callers: dict[str, str], apps: dict[str, str], env: dict[str, Any]
) -> str:
    if key.endswith("_AUTH__SERVICE_TOKEN"):
        return callers[service]
    if key == "HERALD_AUTH_SERVICE_TOKENS":
        return json.dumps(callers, separators=(",", ":"))
    # auth-service's token vault, the scheduler's webhook secrets, the console's session cookies
    if key.endswith(("_VAULT__KEYS", "_SESSIONS__KEYS")):
        kid = str(env.get(key.removesuffix("KEYS") + "PRIMARY_KID", "k1"))
        key_b64 = base64.b64encode(secrets.token_bytes(32)).decode()
        return json.dumps({kid: key_b64}, separators=(",", ":"))
    for suffix, source in APP_SECRETS.items():
        if key.endswith(suffix):
            return apps[source]
    if key.endswith(("_ADMIN_TOKEN", "_API_KEY_PEPPER", "_VERIFY_TOKEN")):
        return secrets.token_hex(32)
    msg = f"generate_secrets: no rule makes {key} ({service}); add one here"
    raise SystemExit(msg)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Maps merge, anything else is replaced: helm's rule for `-f` values files."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


def write(files: dict[str, dict[str, str]], out: Path, mongo_uri: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    every: dict[str, str] = {"HERALD_MONGO_URI": mongo_uri}
    for name, env in files.items():
        if name not in ("platform-sandbox", "demo"):
            every |= env
    written = []
    for name, env in [*files.items(), ("kubernetes", every)]:
        if not env:  # a service with no secrets gets no file
            continue
        path = out / f"{name}.env"
        partial = path.with_suffix(".tmp")
        partial.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        partial.chmod(0o600)
        partial.replace(path)
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "deploy" / "compose" / "secrets")
    parser.add_argument(
        "--values",
        type=Path,
        action="append",
        default=[],
        help="a values file of your release, merged over the chart's (as helm -f does)",
    )
    parser.add_argument(
        "--mongo-uri", default=os.environ.get("HERALD_MONGO_URI", DEFAULT_MONGO_URI)
    )
    parser.add_argument("--force", action="store_true", help="replace existing secrets")
    args = parser.parse_args()
    if (args.out / "kubernetes.env").exists() and not args.force:
        print(f"generate_secrets: kept the secrets in {args.out} (--force replaces them)")  # noqa: T201
        return 0
    values = yaml.safe_load(VALUES.read_text())
    for path in args.values:
        merge(values, yaml.safe_load(path.read_text()))
    written = write(generate(values, dict(os.environ)), args.out, args.mongo_uri)
    names = ", ".join(p.name for p in written)
    print(f"generate_secrets: wrote {names} in {args.out}")  # noqa: T201 - a command's answer
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each local service process gets only the secrets it uses (issue 19, finding 8): before, every
process (and honcho) held the vault key, the pepper, the admin token and every service token."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

import pytest

from herald_localstack import demo, services
from herald_localstack.config import StackConfig
from herald_localstack.secrets import StackSecrets

pytestmark = pytest.mark.unit


def holders(keys: StackSecrets) -> dict[str, set[str]]:
    """Each secret of the stack, and the services that use it: auth-service checks the others'
    tokens and keeps the vault key, the pepper and the admin token; each caller has its own token;
    the scheduler alone seals business webhook secrets with its key, the console its session
    cookies with its own; publisher-whatsapp answers
    Meta's handshake with the verify token."""
    expected = {
        keys.admin_token: {"auth-service"},
        keys.vault_key: {"auth-service"},
        keys.api_key_pepper: {"auth-service"},
        keys.webhook_key: {"scheduler"},
        keys.console_key: {"console"},
        keys.whatsapp_verify_token: {"publisher-whatsapp"},
    }
    for caller, token in keys.service_tokens.items():
        expected[token] = {"auth-service", caller}
    return expected


def secrets_seen(env: dict[str, str], keys: StackSecrets) -> set[str]:
    return {secret for secret in holders(keys) if any(secret in value for value in env.values())}


def test_each_process_holds_only_the_secrets_it_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a person exported for one service reaches that service alone.
    monkeypatch.setenv("HERALD_AUTH_ADMIN_TOKEN", "exported-for-auth-service")
    monkeypatch.setenv("HERALD_SCHEDULER_RETENTION__KEEP_DAYS", "3")
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    keys = StackSecrets.load_or_create(tmp_path)

    for service in services.SERVICES:
        env = services.environment(cfg, service)
        uses = {secret for secret, names in holders(keys).items() if service.name in names}
        assert secrets_seen(env, keys) == uses, service.name
        foreign = [k for k in env if k.startswith(services.PREFIXES)]
        assert all(k.startswith(service.env_prefix) for k in foreign), (service.name, foreign)
        assert env[service.port_variable] == str(services.port(cfg, service))
        assert ("HERALD_SCHEDULER_RETENTION__KEEP_DAYS" in env) == (service.name == "scheduler")
    auth = next(s for s in services.SERVICES if s.name == "auth-service")
    # The stack's own secret wins over one exported by hand.
    assert services.environment(cfg, auth)["HERALD_AUTH_ADMIN_TOKEN"] == keys.admin_token
    assert secrets_seen(services.shared_environment(), keys) == set()
    assert "exported-for-auth-service" not in services.shared_environment().values()


def test_honcho_starts_each_process_from_its_own_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERALD_STACK_REPLICAS_PUBLISHER_FACEBOOK", "2")
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    keys = StackSecrets.load_or_create(tmp_path)

    folder = services.write_environments(cfg)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = {p.stem: p for p in folder.iterdir()}
    assert set(files) == {s.name for s in services.SERVICES} | {"publisher-facebook#2"}
    assert {stat.S_IMODE(p.stat().st_mode) for p in files.values()} == {0o600}
    second = json.loads(files["publisher-facebook#2"].read_text())
    assert second["module"] == "publisher_facebook"
    facebook = next(s for s in services.SERVICES if s.name == "publisher-facebook")
    assert second["env"][facebook.port_variable] == str(services.port(cfg, facebook) + 100)
    assert secrets_seen(second["env"], keys) == {keys.service_tokens["publisher-facebook"]}
    lines = services.procfile(cfg).read_text()
    assert all(secret not in lines for secret in holders(keys))


def test_the_demos_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    path.write_text("{}")
    path.chmod(0o644)  # as an older run left it

    demo.save(path, demo.Demo(business_id="b1", api_key="hk_live_secret"))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["api_key"] == "hk_live_secret"

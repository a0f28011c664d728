"""The local stack's wiring: what one service sends, the other accepts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from auth_service.composition import check_settings
from auth_service.settings import Settings as AuthSettings
from console import keys as console_keys
from console.keys import DEV_SESSION_KEY
from console.settings import Settings as ConsoleSettings
from herald_localstack import services
from herald_localstack.config import StackConfig
from herald_localstack.secrets import StackSecrets
from platform_sandbox.settings import Settings as SandboxSettings
from publisher_tiktok.settings import Settings as TikTokPublisherSettings
from publisher_whatsapp.settings import Settings as WhatsAppPublisherSettings
from scheduler.settings import Settings as SchedulerSettings
from scheduler.webhooks.wiring import DEV_VAULT_KEY, keyring

pytestmark = pytest.mark.unit


def test_the_tiktok_publisher_verifies_the_webhooks_the_sandbox_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    for name, value in services.wiring(cfg, StackSecrets.load_or_create(tmp_path)).items():
        monkeypatch.setenv(name, value)

    publisher = TikTokPublisherSettings().tiktok.client_secret.get_secret_value()
    sandbox = SandboxSettings().tiktok.client_secret.get_secret_value()

    assert publisher == sandbox != ""
    assert (
        SandboxSettings().webhooks.tiktok_url
        == f"{services.url(cfg, 'publisher-tiktok')}/webhooks/tiktok"
    )


def test_the_whatsapp_publisher_verifies_the_webhooks_the_sandbox_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    for name, value in services.wiring(cfg, StackSecrets.load_or_create(tmp_path)).items():
        monkeypatch.setenv(name, value)

    publisher = WhatsAppPublisherSettings().webhook_secrets()
    sandbox = SandboxSettings().meta.app_secret.get_secret_value()

    assert publisher == [sandbox] != [""]
    assert (
        SandboxSettings().webhooks.whatsapp_url
        == f"{services.url(cfg, 'publisher-whatsapp')}/webhooks/whatsapp"
    )


def test_auth_service_gets_this_installations_secrets_not_the_public_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    keys = StackSecrets.load_or_create(tmp_path)
    for name, value in services.wiring(cfg, keys).items():
        monkeypatch.setenv(name, value)
    # Even reachable from elsewhere, these would pass: nothing public is left in them.
    monkeypatch.setenv("HERALD_AUTH_HTTP__HOST", "0.0.0.0")  # noqa: S104 - checked, not bound
    monkeypatch.setenv("HERALD_AUTH_HTTP__PORT", "8101")

    settings = AuthSettings()

    assert settings.api_key_pepper.get_secret_value() == keys.api_key_pepper
    check_settings(settings)


def test_the_scheduler_seals_webhook_secrets_with_this_installations_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    keys = StackSecrets.load_or_create(tmp_path)
    for name, value in services.wiring(cfg, keys).items():
        monkeypatch.setenv(name, value)
    # Even reachable from elsewhere, the scheduler would start: its key is not the public one.
    monkeypatch.setenv("HERALD_SCHEDULER_HTTP__HOST", "0.0.0.0")  # noqa: S104 - checked, not bound
    monkeypatch.setenv("HERALD_SCHEDULER_HTTP__PORT", "8102")

    vault = SchedulerSettings().webhooks.vault

    assert {k: v.get_secret_value() for k, v in vault.keys.items()} == {"local-1": keys.webhook_key}
    assert keys.webhook_key != DEV_VAULT_KEY
    assert keyring(SchedulerSettings().webhooks, http_host="0.0.0.0").primary_kid == "local-1"  # noqa: S104


def test_the_console_seals_sessions_with_this_installations_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every console process of a run gets the run's key (kept in .run/secrets.json), so a
    restarted console still opens the cookies it sealed; never the public development key."""
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    keys = StackSecrets.load_or_create(tmp_path)
    for name, value in services.wiring(cfg, keys).items():
        monkeypatch.setenv(name, value)

    settings = ConsoleSettings()

    assert {k: v.get_secret_value() for k, v in settings.sessions.keys.items()} == {
        "local-1": keys.console_key
    }
    assert keys.console_key != DEV_SESSION_KEY
    monkeypatch.setenv("HERALD_CONSOLE_ENVIRONMENT", "production")
    assert console_keys.refusals(ConsoleSettings()) == []


def test_the_fetchers_trust_the_sandboxs_media_path_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)
    for name, value in services.wiring(cfg, StackSecrets.load_or_create(tmp_path)).items():
        monkeypatch.setenv(name, value)
    media = f"{services.url(cfg, 'platform-sandbox')}/_sandbox/media/"

    assert TikTokPublisherSettings().fetcher.allowed_origins == [media]
    assert WhatsAppPublisherSettings().fetcher.allowed_origins == [media]

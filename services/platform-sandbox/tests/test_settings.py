"""Every limit is a setting read from `HERALD_SANDBOX_…` (nested with `__`)."""

from __future__ import annotations

import pytest

from herald.settings import ConfigurationError, load_settings
from platform_sandbox.settings import Settings

pytestmark = pytest.mark.unit


def test_defaults_match_the_documented_platform_values() -> None:
    settings = Settings.model_validate({})
    assert settings.whatsapp.throughput_mps == 80
    assert (settings.whatsapp.pair_interval_s, settings.whatsapp.pair_burst) == (6, 45)
    assert settings.instagram.publish_quota_total == 50
    assert settings.instagram.container_cap == 400
    assert settings.meta.long_lived_user_token_s == 5_183_944
    assert settings.tiktok.init_per_minute == 6
    assert settings.tiktok.daily_post_cap == 15
    assert settings.http.port == 8120


def test_nested_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_SANDBOX_WHATSAPP__THROUGHPUT_MPS", "1000")
    monkeypatch.setenv("HERALD_SANDBOX_TIKTOK__TOKEN_PROFILE", "legacy")
    settings = load_settings(Settings)
    assert settings.whatsapp.throughput_mps == 1000
    assert settings.tiktok.token_profile == "legacy"


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_SANDBOX_TIKTOK__TOKEN_PROFILE", "forever")
    with pytest.raises(ConfigurationError, match="HERALD_SANDBOX_TIKTOK__TOKEN_PROFILE"):
        load_settings(Settings)

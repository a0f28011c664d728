"""HERALD_SCHEDULER_ENVIRONMENT (auth-service's rule): production refuses to start without the
token for auth-service, with the public development webhook-secret key or with loopback webhook
destinations, each named by its variable; development on loopback accepts all three."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from herald.settings import ConfigurationError
from scheduler.app import create_app
from scheduler.environment import startup_problems
from scheduler.settings import Settings
from scheduler.webhooks.wiring import DEV_VAULT_KEY

pytestmark = pytest.mark.unit

KEY = base64.b64encode(os.urandom(32)).decode()
TOKEN = "a-service-token-of-this-installation"
VAULT = "HERALD_SCHEDULER_WEBHOOKS__VAULT__KEYS"


def _settings(**overrides: Any) -> Settings:
    fit: dict[str, Any] = {
        "environment": "production",
        "http": {"host": "0.0.0.0", "port": 8102},  # noqa: S104 - checked, never bound
        "auth": {"service_token": TOKEN},
        "webhooks": {"vault": {"keys": {"k1": KEY}, "primary_kid": "k1"}},
    }
    return Settings.model_validate(fit | overrides)


def test_production_with_its_own_token_and_key_has_no_problem() -> None:
    assert startup_problems(_settings()) == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"auth": {"service_token": ""}}, "HERALD_SCHEDULER_AUTH__SERVICE_TOKEN: is missing"),
        ({"auth": {"service_token": "  "}}, "HERALD_SCHEDULER_AUTH__SERVICE_TOKEN: is missing"),
        (
            {"webhooks": {"vault": {"keys": {"k1": KEY}}, "allow_loopback": True}},
            "HERALD_SCHEDULER_WEBHOOKS__ALLOW_LOOPBACK: admits webhook endpoints on loopback",
        ),
        ({"webhooks": {}}, f"{VAULT}: is missing, so the public development key"),
        (
            {"webhooks": {"vault": {"keys": {"dev": DEV_VAULT_KEY}}}},
            f"{VAULT}[dev]: is the public development key (HERALD_SCHEDULER_ENVIRONMENT is "
            "production)",
        ),
    ],
)
def test_production_refuses_each_development_only_setting_by_name(
    overrides: dict[str, Any], named: str
) -> None:
    # On loopback too: production does not depend on where the server listens.
    for host in ("0.0.0.0", "127.0.0.1"):  # noqa: S104 - checked, never bound
        settings = _settings(**overrides, http={"host": host, "port": 8102})
        problems = startup_problems(settings)
        assert len(problems) == 1
        assert problems[0].startswith(named), problems


def test_development_on_loopback_accepts_what_production_refuses() -> None:
    local = Settings.model_validate(
        {"environment": "development", "webhooks": {"allow_loopback": True}}
    )
    assert local.http.host == "127.0.0.1"
    assert local.auth.service_token.get_secret_value() == ""
    assert startup_problems(local) == []
    assert Settings().environment == "development"


def test_the_app_refuses_to_build_naming_every_problem_at_once() -> None:
    unfit = Settings.model_validate({"environment": "production"})
    with pytest.raises(ConfigurationError) as refused:
        create_app(unfit)
    message = str(refused.value)
    assert "invalid configuration for scheduler (production)" in message
    assert "HERALD_SCHEDULER_AUTH__SERVICE_TOKEN" in message
    assert VAULT in message  # run_service prints it and exits 2, as for any bad setting

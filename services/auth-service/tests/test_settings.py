"""Settings: production refuses missing, short or placeholder secrets and names the setting;
`python -m auth_service` exits 2 saying so; hosts can point at the sandbox."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from auth_service.composition import check_settings
from auth_service.settings import DEV_API_KEY_PEPPER, DEV_VAULT_KEY, Settings
from herald.settings import ConfigurationError

pytestmark = pytest.mark.unit

GOOD_KEY = base64.b64encode(os.urandom(32)).decode()
STRONG = "Zq8" + os.urandom(24).hex()


def _production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "production",
        "vault": {"keys": {"k1": GOOD_KEY}, "primary_kid": "k1"},
        "api_key_pepper": STRONG,
        "admin_token": STRONG[::-1],
        "service_tokens": {"scheduler": STRONG + "a", "publisher-tiktok": STRONG + "b"},
        "meta": {"app_secret": os.urandom(16).hex()},
        "instagram": {"app_secret": os.urandom(16).hex()},
        "tiktok": {"client_secret": os.urandom(16).hex()},
    }
    return Settings.model_validate(values | overrides)


def test_a_sound_production_configuration_passes() -> None:
    check_settings(_production())


@pytest.mark.parametrize(
    ("vault", "named"),
    [
        ({}, "HERALD_AUTH_VAULT__KEYS: is missing"),
        ({"keys": {"k1": base64.b64encode(b"short").decode()}, "primary_kid": "k1"}, "32 bytes"),
        ({"keys": {"k1": DEV_VAULT_KEY}, "primary_kid": "k1"}, "placeholder"),
        (
            {"keys": {"k1": base64.b64encode(bytes(32)).decode()}, "primary_kid": "k1"},
            "placeholder",
        ),
        ({"keys": {"k1": GOOD_KEY}, "primary_kid": "k9"}, "HERALD_AUTH_VAULT__PRIMARY_KID"),
    ],
)
def test_production_refuses_a_bad_vault_key(vault: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        check_settings(_production(vault=vault))


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"service_tokens": {"scheduler": "changeme"}}, "HERALD_AUTH_SERVICE_TOKENS[scheduler]"),
        ({"service_tokens": {"scheduler": "dev-" + "x1y2" * 10}}, "placeholder"),
        ({"api_key_pepper": "short"}, "HERALD_AUTH_API_KEY_PEPPER"),
        ({"admin_token": None}, "HERALD_AUTH_ADMIN_TOKEN: is missing"),
        ({"meta": {}}, "HERALD_AUTH_META__APP_SECRET: looks like a placeholder"),
        (
            {"tiktok": {"client_secret": STRONG, "previous_client_secret": "short"}},
            "HERALD_AUTH_TIKTOK__PREVIOUS_CLIENT_SECRET",
        ),
    ],
)
def test_production_refuses_weak_secrets(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_settings(_production(**overrides))
    assert named in str(caught.value)
    assert STRONG not in str(caught.value)


def test_development_runs_with_defaults() -> None:
    check_settings(Settings())


def test_production_names_the_public_development_pepper() -> None:
    with pytest.raises(ConfigurationError, match="API_KEY_PEPPER: is the public development"):
        check_settings(_production(api_key_pepper=DEV_API_KEY_PEPPER))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "auth.internal", "192.168.0.7"])  # noqa: S104 - refused here
def test_public_development_defaults_are_refused_outside_local_runs(host: str) -> None:
    """Issue 19, finding 8: the pepper everyone can read here hashed the keys of any
    development run, reachable from elsewhere or not. Now only a loopback-only run may use it,
    and the development vault key likewise."""
    exposed = Settings.model_validate({"http": {"host": host, "port": 8101}})
    with pytest.raises(ConfigurationError) as caught:
        check_settings(exposed)
    assert "HERALD_AUTH_API_KEY_PEPPER: is the public development default" in str(caught.value)
    assert "HERALD_AUTH_VAULT__KEYS: is missing" in str(caught.value)
    assert f"listens on {host}" in str(caught.value)
    own = {"api_key_pepper": STRONG, "vault": {"keys": {"k1": GOOD_KEY}, "primary_kid": "k1"}}
    check_settings(Settings.model_validate(own | {"http": {"host": host, "port": 8101}}))
    copied = own | {"vault": {"keys": {"k1": DEV_VAULT_KEY}, "primary_kid": "k1"}}
    with pytest.raises(ConfigurationError, match=r"VAULT__KEYS\[k1\]: is the public"):
        check_settings(Settings.model_validate(copied | {"http": {"host": host, "port": 8101}}))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_a_loopback_run_may_use_the_development_defaults(host: str) -> None:
    check_settings(Settings.model_validate({"http": {"host": host, "port": 8101}}))


def test_sandbox_url_fills_every_host_unless_given() -> None:
    hosts = Settings.model_validate(
        {"hosts": {"sandbox_url": "http://127.0.0.1:8120/", "www_tiktok": "https://tt.example"}}
    ).hosts
    assert hosts.graph_facebook == "http://127.0.0.1:8120/graph.facebook.com"
    assert hosts.open_tiktokapis == "http://127.0.0.1:8120/open.tiktokapis.com"
    assert hosts.api_instagram == "http://127.0.0.1:8120/api.instagram.com"
    assert hosts.www_tiktok == "https://tt.example"
    assert Settings().hosts.graph_facebook == "https://graph.facebook.com"


def test_the_service_refuses_to_start_and_says_why() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_AUTH_")}
    env |= {"HERALD_AUTH_ENVIRONMENT": "production", "HERALD_AUTH_VAULT__KEYS": '{"k1": "abc"}'}
    done = subprocess.run(
        [sys.executable, "-m", "auth_service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "HERALD_AUTH_VAULT__KEYS[k1]: is not base64 of exactly 32 bytes" in done.stderr
    assert "HERALD_AUTH_ADMIN_TOKEN" in done.stderr

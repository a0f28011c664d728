"""The local stack's secrets: made once, kept, completed when a newer version adds one."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from auth_service.settings import DEV_API_KEY_PEPPER
from herald_localstack.secrets import CALLERS, StackSecrets

pytestmark = pytest.mark.unit


def test_made_once_then_reused_and_private(tmp_path: Path) -> None:
    first = StackSecrets.load_or_create(tmp_path)
    again = StackSecrets.load_or_create(tmp_path)

    assert first == again
    assert set(first.service_tokens) == set(CALLERS)
    assert len(set(first.service_tokens.values())) == len(CALLERS)
    assert len(base64.b64decode(first.vault_key)) == 32
    assert len(base64.b64decode(first.webhook_key)) == 32
    assert first.webhook_key != first.vault_key
    assert len(base64.b64decode(first.console_key)) == 32
    assert first.console_key not in (first.vault_key, first.webhook_key)
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600


def test_an_older_file_keeps_its_values_and_gains_the_missing_ones(tmp_path: Path) -> None:
    tokens = {name: f"token-{name}" for name in CALLERS}
    older = {"service_tokens": tokens, "admin_token": "a", "whatsapp_verify_token": "w"}
    (tmp_path / "secrets.json").write_text(json.dumps(older))

    loaded = StackSecrets.load_or_create(tmp_path)

    assert loaded.service_tokens == tokens
    assert loaded.admin_token == "a"
    assert len(base64.b64decode(loaded.vault_key)) == 32
    assert json.loads((tmp_path / "secrets.json").read_text())["vault_key"] == loaded.vault_key
    assert len(base64.b64decode(loaded.webhook_key)) == 32  # gained by an older file
    assert len(base64.b64decode(loaded.console_key)) == 32


def test_each_installation_has_its_own_api_key_pepper(tmp_path: Path) -> None:
    """auth-service refuses its public development pepper outside local runs (issue 19,
    finding 8); the local stack makes one per run folder and keeps it, since a new pepper
    would make every stored key unusable."""
    one = StackSecrets.load_or_create(tmp_path / "one")
    other = StackSecrets.load_or_create(tmp_path / "other")
    assert len(one.api_key_pepper) == 64
    assert one.api_key_pepper != other.api_key_pepper
    assert StackSecrets.load_or_create(tmp_path / "one").api_key_pepper == one.api_key_pepper
    assert one.api_key_pepper != DEV_API_KEY_PEPPER

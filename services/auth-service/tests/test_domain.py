"""Pure rules: API key format, state and PKCE, status and when to refresh."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from auth_service.domain import (
    AuthServer,
    Integration,
    Margins,
    RefreshMode,
    access_usable,
    generate_api_key,
    hash_secret,
    new_state,
    parse_api_key,
    pkce_pair,
    refresh_due,
    reported_status,
    secret_matches,
)
from herald.events import IntegrationStatus
from herald.topics import Platform

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MARGINS = Margins(
    short_s=900, long_s=7 * 86_400, check_interval_s=86_400, expiring_window_s=3 * 86_400
)


def test_api_key_format_and_parse() -> None:
    key = generate_api_key()
    assert key.full.startswith(f"hk_{key.key_id}_")
    assert parse_api_key(key.full) == (key.key_id, key.secret)
    for bad in ("", "hk_", "hk_abc_def", f"sk_{key.key_id}_{key.secret}", key.full + "x"):
        assert parse_api_key(bad) is None


def test_key_hash_is_peppered_and_compared_in_constant_time() -> None:
    stored = hash_secret("s3cret", "pepper-1")
    assert stored != hash_secret("s3cret", "pepper-2")
    assert secret_matches("s3cret", "pepper-1", stored)
    assert not secret_matches("s3cret!", "pepper-1", stored)


def test_state_has_256_bits_and_pkce_is_s256() -> None:
    assert len(base64.urlsafe_b64decode(new_state() + "=")) == 32
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.decode().rstrip("=")


def _integration(mode: RefreshMode, **times: datetime | None) -> Integration:
    return Integration(
        id="int_1",
        business_id="biz_1",
        platform=Platform.TIKTOK,
        account_id="a",
        account_name=None,
        account={},
        scopes=(),
        status=IntegrationStatus(str(times.pop("status", None) or "active")),
        mode=mode,
        auth_server=AuthServer.TIKTOK,
        provider_user_id=None,
        secrets={},
        connected_at=NOW - timedelta(days=30),
        **times,  # type: ignore[arg-type]  # the datetime fields of Integration, by name
    )


H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.mark.parametrize(
    ("mode", "times", "due"),
    [
        (RefreshMode.ROTATE, {"expires_at": NOW + 2 * H}, False),
        (RefreshMode.ROTATE, {"expires_at": NOW + timedelta(minutes=10)}, True),
        (RefreshMode.ROTATE, {"expires_at": NOW - H}, True),
        (RefreshMode.ROTATE, {"expires_at": NOW - H, "next_attempt_at": NOW + H}, False),
        (RefreshMode.EXCHANGE, {"expires_at": NOW + 30 * D}, False),
        (RefreshMode.EXCHANGE, {"expires_at": NOW + 5 * D}, True),
        (RefreshMode.EXCHANGE, {"user_expires_at": NOW + 5 * D}, True),
        (RefreshMode.CHECK, {"last_checked_at": NOW - 2 * H}, False),
        (RefreshMode.CHECK, {"last_checked_at": NOW - 2 * D}, True),
    ],
)
def test_refresh_due(mode: RefreshMode, times: dict[str, datetime], due: bool) -> None:
    assert refresh_due(_integration(mode, **times), NOW, MARGINS) is due


@pytest.mark.parametrize(
    ("mode", "times", "status"),
    [
        (RefreshMode.ROTATE, {"refresh_expires_at": NOW + 100 * D}, "active"),
        (RefreshMode.ROTATE, {"refresh_expires_at": NOW + 2 * D}, "expiring"),
        (RefreshMode.EXCHANGE, {"user_expires_at": NOW + D}, "expiring"),
        (RefreshMode.CHECK, {}, "active"),
        (RefreshMode.CHECK, {"status": "expired"}, "expired"),
        (RefreshMode.ROTATE, {"status": "disconnected"}, "disconnected"),
    ],
)
def test_reported_status(mode: RefreshMode, times: dict[str, datetime], status: str) -> None:
    assert reported_status(_integration(mode, **times), NOW, MARGINS).value == status


def test_access_usable_needs_two_minutes_left() -> None:
    assert access_usable(_integration(RefreshMode.CHECK), NOW)
    assert access_usable(_integration(RefreshMode.ROTATE, expires_at=NOW + 5 * H), NOW)
    assert not access_usable(_integration(RefreshMode.ROTATE, expires_at=NOW + H / 60), NOW)

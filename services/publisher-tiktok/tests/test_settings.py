"""publisher-tiktok refuses a retention that would delete ledger entries its insights job still
reads (ADR 0003), like the Graph publishers, or webhook marks while a replay is still fresh."""

from __future__ import annotations

import pytest

from herald.settings import ConfigurationError, load_settings
from publisher_tiktok.settings import Settings

pytestmark = pytest.mark.unit

KEEP_5_DAYS = {"HERALD_PUBLISHER_TIKTOK_RETENTION__KEEP_DAYS": "5"}


def test_a_retention_shorter_than_the_insights_reach_stops_the_service() -> None:
    # The insights job reads the ledger until 7 days + 2 days of grace after publishing.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in KEEP_5_DAYS.items():
            patch.setenv(name, value)
        with pytest.raises(ConfigurationError, match=r"retention\.keep_days.*insights\.grace_s"):
            load_settings(Settings)
        patch.setenv("HERALD_PUBLISHER_TIKTOK_INSIGHTS__ENABLED", "false")
        assert load_settings(Settings).retention.keep_days == 5


def test_a_retention_shorter_than_the_webhook_window_stops_the_service() -> None:
    """A replayed `authorization.removed` inside the signature's window must find its mark."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HERALD_PUBLISHER_TIKTOK_INSIGHTS__ENABLED", "false")
        patch.setenv("HERALD_PUBLISHER_TIKTOK_RETRY__MAX_DEFERRAL_S", "600")
        patch.setenv("HERALD_PUBLISHER_TIKTOK_RETENTION__KEEP_DAYS", "0.01")  # 864 s
        patch.setenv("HERALD_PUBLISHER_TIKTOK_TIKTOK__WEBHOOK_TOLERANCE_S", "900")
        with pytest.raises(ConfigurationError, match=r"tiktok\.webhook_tolerance_s \(900 s\)"):
            load_settings(Settings)
        patch.setenv("HERALD_PUBLISHER_TIKTOK_TIKTOK__WEBHOOK_TOLERANCE_S", "300")
        assert load_settings(Settings).retention.keep_days == 0.01

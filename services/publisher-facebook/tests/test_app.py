"""publisher-facebook refuses a retention that would delete what it still reads (the checks
every service's app shares are in tests/contract/test_service_apps.py)."""

from __future__ import annotations

import pytest

from herald.settings import ConfigurationError, load_settings
from publisher_facebook.settings import Settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        # The insights job reads the ledger until 7 days + 2 days of grace after publishing.
        ({"HERALD_PUBLISHER_FACEBOOK_RETENTION__KEEP_DAYS": "5"}, "insights.grace_s"),
        # A request may be deferred 48 h; its ledger entry must still be there when it returns.
        (
            {
                "HERALD_PUBLISHER_FACEBOOK_RETENTION__KEEP_DAYS": "1",
                "HERALD_PUBLISHER_FACEBOOK_INSIGHTS__ENABLED": "false",
            },
            "retry.max_deferral_s",
        ),
    ],
)
def test_a_retention_that_would_delete_what_is_still_read_stops_the_service(
    environ: dict[str, str], names: str
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        with pytest.raises(ConfigurationError) as caught:
            load_settings(Settings)
    assert "retention.keep_days" in str(caught.value)
    assert names in str(caught.value)

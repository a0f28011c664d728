"""The account vocabulary is one table: every common metric says, for each platform with
account insights, which platform metric it reads or why there is none; a figure the platform
left out of a day is absent with that said, never 0; the CSV keeps the platform's name beside
each figure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from herald.topics import Platform
from scheduler.analytics.account_api import AccountAnalytics, AccountDay, AccountFigure, account_csv
from scheduler.analytics.account_vocabulary import ACCOUNT_VOCABULARY, translate_account

pytestmark = pytest.mark.unit
WITH_ACCOUNTS = (Platform.FACEBOOK, Platform.INSTAGRAM, Platform.TIKTOK)


def test_every_metric_is_read_or_explained_on_every_platform() -> None:
    for name, by_platform in ACCOUNT_VOCABULARY.items():
        assert set(by_platform) == set(WITH_ACCOUNTS), name
        assert all(source.strip() for source in by_platform.values()), name
    assert ACCOUNT_VOCABULARY["followers"] == {
        Platform.FACEBOOK: "page_follows",
        Platform.INSTAGRAM: "followers_count",
        Platform.TIKTOK: "follower_count",
    }


@pytest.mark.parametrize(
    ("platform", "figures", "present", "absent_reason"),
    [
        (
            Platform.FACEBOOK,
            {"page_follows": 1250.0, "page_media_view": 900.0},
            {"followers": "page_follows", "views": "page_media_view"},
            ("reach", "answered no value for `page_total_media_view_unique`"),
        ),
        (
            Platform.INSTAGRAM,
            {"followers_count": 3500.0, "follower_count": 31.0, "reach": 700.0},
            {"followers": "followers_count", "new_followers": "follower_count"},
            ("videos", "no media count"),
        ),
        (
            Platform.TIKTOK,
            {"follower_count": 5100.0, "likes_count": 43000.0, "video_count": 4.0},
            {"followers": "follower_count", "likes": "likes_count", "videos": "video_count"},
            ("views", "views are per video"),
        ),
        (Platform.WHATSAPP, {}, {}, ("followers", "whatsapp has no account insights")),
    ],
)
def test_a_day_in_the_common_vocabulary(
    platform: Platform,
    figures: dict[str, float],
    present: dict[str, str],
    absent_reason: tuple[str, str],
) -> None:
    day = translate_account(platform, figures)
    for name, source in present.items():
        assert day.metrics[name].platform_metric == source
        assert day.metrics[name].value == figures[source]
    name, reason = absent_reason
    assert name not in day.metrics
    assert reason in day.absent[name]
    assert set(day.metrics) | set(day.absent) == set(ACCOUNT_VOCABULARY)


def test_csv_rows_keep_the_platform_name_and_the_reason() -> None:
    analytics = AccountAnalytics(
        integration_id="int_1",
        platform=Platform.FACEBOOK,
        account_id="=1+2",  # a spreadsheet formula from outside is kept as text
        from_=date(2026, 12, 1),
        to=date(2026, 12, 2),
        granularity="day",
        days=[
            AccountDay(
                day=date(2026, 12, 1),
                collected_at=datetime(2026, 12, 2, 0, 5, tzinfo=UTC),
                metrics={"followers": AccountFigure(value=1250, platform_metric="page_follows")},
                absent={"saves": "Page insights have no saves metric"},
                platform_metrics={"page_follows": 1250},
            )
        ],
        not_collected=[],
    )
    lines = account_csv(analytics).splitlines()
    assert lines[1] == (
        "int_1,facebook,'=1+2,2026-12-01,2026-12-02T00:05:00+00:00,followers,1250,page_follows,"
    )
    assert lines[2].endswith(",saves,,,Page insights have no saves metric")

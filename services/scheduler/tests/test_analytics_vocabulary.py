"""The common vocabulary: each figure from one platform metric, absences explained, never 0."""

from __future__ import annotations

from typing import get_args

import pytest

from herald.topics import Platform
from scheduler.analytics.api import CommonMetric
from scheduler.analytics.vocabulary import COMMON, row_for, translate

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("platform", "kind"),
    [
        (Platform.FACEBOOK, None),
        (Platform.INSTAGRAM, "feed"),
        (Platform.INSTAGRAM, "carousel"),
        (Platform.INSTAGRAM, "reel"),
        (Platform.INSTAGRAM, "story"),
        (Platform.TIKTOK, None),
    ],
)
def test_every_post_type_says_something_of_every_common_metric(
    platform: Platform, kind: str | None
) -> None:
    assert tuple(row_for(platform, kind)) == COMMON
    translated = translate(platform, kind, {})
    assert translated.metrics == {}
    assert set(translated.absent) == set(COMMON)


def test_a_reel_reports_its_watch_time_in_seconds_and_tiktok_its_counters() -> None:
    reel = translate(Platform.INSTAGRAM, "reel", {"ig_reels_avg_watch_time": 4250, "likes": 9})
    assert reel.metrics["avg_watch_time_s"].value == 4.25
    assert reel.metrics["avg_watch_time_s"].platform_metric == "ig_reels_avg_watch_time"
    assert reel.metrics["reactions"].platform_metric == "likes"
    feed = translate(Platform.INSTAGRAM, "feed", {"ig_reels_avg_watch_time": 4250})
    assert "avg_watch_time_s" not in feed.metrics
    assert (
        feed.absent["avg_watch_time_s"] == "Instagram's ig_reels_avg_watch_time is for reels only"
    )
    video = translate(Platform.TIKTOK, None, {"view_count": 50, "share_count": 0})
    assert video.metrics["views"].value == 50
    assert video.metrics["shares"].value == 0  # answered as 0 by the platform: a real zero
    assert video.absent["reach"].startswith("TikTok's video/query")


def test_a_figure_of_the_wrong_shape_is_absent_not_guessed() -> None:
    odd = translate(Platform.FACEBOOK, None, {"post_media_view": {"a": 1}, "post_clicks": True})
    assert {"views", "clicks"} <= set(odd.absent)


def test_whatsapp_has_no_post_insights() -> None:
    with pytest.raises(ValueError, match="no post insights"):
        row_for(Platform.WHATSAPP, None)


def test_the_summary_ranks_by_any_common_metric_and_only_those() -> None:
    assert get_args(CommonMetric) == COMMON

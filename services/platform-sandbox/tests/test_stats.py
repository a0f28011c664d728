"""The sandbox's synthetic figures keep rising after the first hour and settle after a week,
so a post's 1 h, 24 h and 7 d insights snapshots differ and its 28 d one equals the 7 d one."""

from __future__ import annotations

import pytest

from platform_sandbox.stats import GROWTH, base, figure, share

pytestmark = pytest.mark.unit
HOUR, DAY = 3_600, 86_400


def test_a_figure_rises_through_the_snapshot_ages_then_settles() -> None:
    ages = [0, 1_800, HOUR, DAY, 7 * DAY, 28 * DAY]
    figures = [figure("1234_5678", "post_media_view", age, scale=50_000) for age in ages]
    assert figures[0] == 0
    assert figures[1] < figures[2] < figures[3] < figures[4]
    assert figures[4] == figures[5]  # settled after a week
    assert figures[2] == base("1234_5678", "post_media_view", 50_000)  # the base at 1 h


def test_the_share_is_continuous_and_bounded() -> None:
    assert share(HOUR) == pytest.approx(1.0)
    assert share(HOUR + 1) == pytest.approx(1.0, abs=1e-3)
    assert share(7 * DAY) == pytest.approx(GROWTH)
    assert share(365 * DAY) == pytest.approx(GROWTH)
    assert 1.0 < share(DAY) < GROWTH

from __future__ import annotations

import pytest

from herald import topics
from herald.topics import Platform

pytestmark = pytest.mark.unit


def test_names_follow_the_design() -> None:
    assert topics.requested(Platform.INSTAGRAM) == "post.requested.instagram"
    assert topics.delay("tiktok", "10m") == "post.requested.tiktok.delay.10m"
    assert topics.dlq("whatsapp") == "post.requested.whatsapp.dlq"


def test_unknown_platform_or_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="myspace"):
        topics.requested("myspace")
    with pytest.raises(ValueError, match="unknown delay tier '2s'"):
        topics.delay("facebook", "2s")


def test_provisioning_plan_covers_every_topic_with_its_partitions() -> None:
    plan = topics.provisioning_plan(partitions=12)
    names = [t.name for t in plan]
    assert len(names) == len(set(names))
    assert {t.partitions for t in plan} == {12}
    for shared in (
        "post.submitted",
        "post.results",
        "post.insights",
        "message.status",
        "integration.events",
    ):
        assert shared in names
    for platform in Platform:
        assert topics.requested(platform) in names
        assert topics.dlq(platform) in names
        assert all(topics.delay(platform, tier) in names for tier in topics.DELAY_TIERS)
    assert len(plan) == 5 + 4 * (2 + len(topics.DELAY_TIERS))


def test_tiers_are_ordered_shortest_first() -> None:
    delays = list(topics.DELAY_TIERS.values())
    assert delays == sorted(delays)

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
        "business.events",
    ):
        assert shared in names
    for platform in Platform:
        assert topics.requested(platform) in names
        assert topics.dlq(platform) in names
        assert all(topics.delay(platform, tier) in names for tier in topics.DELAY_TIERS)
    assert len(plan) == 6 + 4 * (2 + len(topics.DELAY_TIERS))


def test_tiers_are_ordered_shortest_first() -> None:
    delays = list(topics.DELAY_TIERS.values())
    assert delays == sorted(delays)


def test_every_service_names_its_topics_once_and_under_the_prefix() -> None:
    names = topics.TopicNames(prefix="p.")
    for service in topics.SERVICES:
        used = names.for_service(service)
        assert used.service == service
        assert len(used.consumes) == len(set(used.consumes)), service
        assert len(used.produces) == len(set(used.produces)), service
        assert set(used.names) == {*used.consumes, *used.produces}
        assert all(n.startswith("p.") for n in used.names), service
        assert [s.name for s in used.plan(3)] == list(used.names)


def test_what_one_service_produces_another_consumes_and_the_plan_holds_it_all() -> None:
    plan = {t.name for t in topics.provisioning_plan()}
    used = [topics.service_topics(s) for s in topics.SERVICES]
    consumed = {n for u in used for n in u.consumes}
    produced = {n for u in used for n in u.produces}
    # post.submitted comes from the businesses' own systems (post.insights goes to theirs too,
    # and to the scheduler's analytics), and dead letters wait for an operator's `herald.replay`.
    assert consumed - produced == {"post.submitted"}
    # business.events is read by the businesses' systems (herald.notices).
    assert produced - consumed == {"business.events", *(topics.dlq(p) for p in Platform)}
    assert plan == consumed | produced


def test_scheduler_and_whatsapp_topics_follow_the_design() -> None:
    scheduler = topics.service_topics("scheduler")
    assert set(scheduler.consumes) == {
        "post.submitted",
        "post.results",
        "integration.events",
        "message.status",
        "post.insights",
    }
    assert set(scheduler.produces) == {
        *(topics.requested(p) for p in Platform),
        "post.results",
        "business.events",
        "post.insights",  # analytics refreshes a business asked for
    }
    whatsapp = topics.service_topics(topics.publisher(Platform.WHATSAPP))
    assert "integration.events" in whatsapp.consumes
    assert "message.status" in whatsapp.produces
    assert "post.insights" not in whatsapp.produces
    assert "post.insights" not in whatsapp.consumes
    tiktok = topics.service_topics("publisher-tiktok")
    assert "post.insights" in tiktok.produces
    assert "post.insights" in tiktok.consumes  # herald.post.insights_requested.v1


def test_an_unknown_service_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown service 'platform-sandbox'; known services: "):
        topics.service_topics("platform-sandbox")
    with pytest.raises(ValueError, match="partitions must be at least 1"):
        topics.service_topics("scheduler").plan(0)

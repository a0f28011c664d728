"""publisher-tiktok on real Kafka and FerretDB against the platform sandbox over HTTP, the
publisher served by uvicorn so the sandbox's signed webhooks reach it: every kind of post
published once, chunk and upload-URL faults survived, the daily cap deferring, and an invalid
token refreshed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.events import (
    PostFailed,
    PostProgressed,
    PostPublished,
    PostRequested,
    PostRetryScheduled,
    ProcessingStage,
)
from herald.testkit import Collector, producer, send_event
from herald.testkit.servers import serving_in_loop
from platform_sandbox.testing.tokens import tiktok_grant
from publisher_testenv.tiktok import Env, tiktok_post

pytestmark = pytest.mark.connected
MB = 1_000_000


def done(targets: set[str], *, with_ids: bool = False) -> Any:
    def check(c: Collector) -> bool:
        events = c.events(PostPublished)
        finished = {e.target_id for e in events if e.platform_post_id or not with_ids}
        finished |= {e.target_id for e in c.events(PostFailed)}
        return targets <= finished

    return check


async def publish(env: Env, *requests: PostRequested, until: Any = None, **kw: Any) -> Collector:
    targets = {r.target_id for r in requests}
    async with (
        Collector(env.kafka_bootstrap, [env.names.post_results]) as out,
        serving_in_loop(env.app(**kw), env.port),
        producer(env.kafka_bootstrap) as client,
    ):
        for request in requests:
            await send_event(client, env.requested, request, key=request.integration_id)
        await out.wait_for(until or done(targets), timeout_s=90)
    return out


async def checkpoint(env: Env, target: str) -> dict[str, Any]:
    entry = await env.db["ledger"].find_one({"_id": target})
    assert entry is not None
    data: dict[str, Any] = entry["checkpoint"]
    return data


async def test_videos_chunked_whole_and_pulled_and_photos_publish_once_each(env: Env) -> None:
    s = env.sandbox
    requests = [
        tiktok_post("chunked", s.media("big.mp4", bytes=23 * MB)),
        tiktok_post("whole", s.media("small.mp4", bytes=3 * MB)),
        tiktok_post("pulled", s.pulled("clip.mp4", bytes=2 * MB)),
        tiktok_post(
            "photos",
            *(s.pulled(f"p{i}.jpg", bytes=100_000) for i in range(3)),
            # The sandbox looks for the marker in a photo post's title only.
            title="Three loaves herald-marker:photos",
        ),
    ]
    targets = {r.target_id for r in requests}

    out = await publish(env, *requests, until=done(targets, with_ids=True))

    assert not out.events(PostFailed)
    for target in targets:
        entries = await s.ledger(marker=target)
        assert len(entries) == 1, (target, entries)
    sources = {t: (await s.ledger(marker=t))[0]["request"]["source"] for t in targets}
    assert sources == {
        "chunked": "FILE_UPLOAD",
        "whole": "FILE_UPLOAD",
        "pulled": "PULL_FROM_URL",
        "photos": "PULL_FROM_URL",
    }
    assert (await s.ledger(marker="photos"))[0]["kind"] == "photo_published"
    assert (await checkpoint(env, "chunked"))["total_chunks"] == 2
    # The chunks' bytes reached post.results as the target's stage meanwhile (ADR 0018).
    uploads = [
        (e.bytes_sent or 0, e.bytes_total)
        for e in out.events(PostProgressed)
        if e.target_id == "chunked" and e.stage is ProcessingStage.UPLOADING
    ]
    assert uploads, out.events(PostProgressed)
    assert all(0 < sent <= 23 * MB and total == 23 * MB for sent, total in uploads), uploads
    assert (await checkpoint(env, "whole"))["total_chunks"] == 1
    # The public id arrived after completion: recorded and announced again with a permalink.
    for target in targets:
        ledger_post = (await s.ledger(marker=target))[0]["request"]["post_id"]
        with_id = [
            e for e in out.events(PostPublished) if e.target_id == target and e.platform_post_id
        ]
        assert {e.platform_post_id for e in with_id} == {ledger_post}
        assert with_id[0].permalink.endswith(f"/{ledger_post}")
        entry = await env.db["ledger"].find_one({"_id": target})
        assert entry is not None
        assert entry["result"]["platform_post_id"] == ledger_post
        assert "insights_due" in entry  # in the insights queue, its id known (ADR 0003)


async def test_a_failing_chunk_and_an_expired_upload_url_are_survived(env: Env) -> None:
    s = env.sandbox
    five_hundred, expired = await s.creator("baker.five"), await s.creator("baker.expired")
    env.tokens.grants |= {"i-5xx": tiktok_grant(five_hundred), "i-expired": tiktok_grant(expired)}
    await s.fault(endpoint="upload", account=five_hundred, count=1, error={"status": 503})
    await s.fault(
        endpoint="upload",
        account=expired,
        count=1,
        error={"status": 403, "code": "upload_url_expired"},
    )
    requests = [
        tiktok_post("retried", s.media("a.mp4", bytes=12 * MB), integration_id="i-5xx"),
        tiktok_post("reinit", s.media("b.mp4", bytes=12 * MB), integration_id="i-expired"),
    ]

    out = await publish(env, *requests)

    assert {e.target_id for e in out.events(PostPublished)} == {"retried", "reinit"}
    assert not out.events(PostRetryScheduled)  # the chunk was retried within the attempt
    assert len(await s.ledger(marker="retried")) == 1
    reinit = await s.ledger(marker="reinit")
    assert len(reinit) == 1
    data = await checkpoint(env, "reinit")
    assert len(data["abandoned"]) == 1
    assert reinit[0]["object_id"] == data["publish_id"] != data["abandoned"][0]
    faults = (await s.admin("GET", "/faults"))["faults"]
    assert faults == []  # both counted faults fired


async def test_the_daily_cap_defers_the_post_to_the_next_day(env: Env) -> None:
    s = env.sandbox
    capped = await s.creator("baker.capped")
    env.tokens.grants["i-capped"] = tiktok_grant(capped)
    await s.fault(
        endpoint="video/init",
        account=capped,
        error={"status": 403, "code": "spam_risk_too_many_posts"},
    )
    request = tiktok_post("capped", s.media("c.mp4", bytes=1 * MB), integration_id="i-capped")
    started = datetime.now(UTC)

    out = await publish(env, request, until=lambda c: bool(c.events(PostRetryScheduled)))

    deferred = out.events(PostRetryScheduled)[0]
    assert deferred.reason.value == "wait"
    assert deferred.next_attempt_at >= started + timedelta(hours=23, minutes=59)
    assert deferred.error.code == "spam_risk_too_many_posts"
    assert "daily limit" in deferred.error.message
    assert not out.events(PostFailed)
    assert await s.ledger(marker="capped") == []


async def test_an_invalid_token_is_refreshed_once_then_published(env: Env) -> None:
    s = env.sandbox
    await env.tokens.expire("i1")
    request = tiktok_post("refreshed", s.media("d.mp4", bytes=1 * MB))

    out = await publish(env, request)

    assert [e.target_id for e in out.events(PostPublished)][:1] == ["refreshed"]
    assert env.tokens.refreshes == {"i1": 1}
    assert len(await s.ledger(marker="refreshed")) == 1


async def test_a_video_url_into_the_sandboxs_admin_api_is_refused_not_uploaded(env: Env) -> None:
    """The fetcher trusts the sandbox's media path only (ADR 0002): a "video" at the sandbox's
    admin API is refused with a reason naming that path, and nothing reaches TikTok."""
    s = env.sandbox
    admin = [f"{s.url}/_sandbox/accounts?as=clip.mp4", f"{s.url}/_sandbox/ledger?v=.mp4"]
    requests = [tiktok_post(f"admin{i}", url) for i, url in enumerate(admin)]

    out = await publish(env, *requests)

    failed = {e.target_id: e.error for e in out.events(PostFailed)}
    assert set(failed) == {"admin0", "admin1"}
    for error in failed.values():
        assert error.code == "media_url_outside_prefix"
        assert f"trusted only under {s.url}/_sandbox/media/" in error.message
    assert not out.events(PostPublished)
    assert await s.ledger(marker="admin0") == await s.ledger(marker="admin1") == []

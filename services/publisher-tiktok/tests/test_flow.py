"""The TikTok flow against the platform sandbox in-process: every kind of post, resume, faults,
and what a creator allows (platform-apis.md §4.2)."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

import pytest

from herald.content import TikTokPrivacy
from herald.errors import NeedsReauth, Permanent, Throttled, Transient, Unknown
from herald.events import ProcessingStage
from herald.runtime.ports import Published, Wait
from platform_sandbox.testing import SandboxHarness
from publisher_testenv.tiktok_flow import (
    HarnessMedia,
    SavedCheckpoint,
    credentials,
    fault,
    ledger,
    photo_request,
    platform_on,
    run_to_end,
    video_request,
)
from publisher_tiktok.handlers import TikTokPublisher
from publisher_tiktok.recovery import LOOKS

pytestmark = pytest.mark.unit


async def test_a_small_video_goes_whole_in_one_put(sandbox: SandboxHarness) -> None:
    url = sandbox.media_url("small.mp4", bytes=1500)
    outcome, saved, _ = await run_to_end(
        sandbox, platform_on(sandbox), video_request(url), await credentials(sandbox)
    )
    entries = await ledger(sandbox)
    assert [e["kind"] for e in entries] == ["video_published"]
    assert entries[0]["request"]["source"] == "FILE_UPLOAD"
    assert saved.data["total_chunks"] == 1
    assert saved.saves.count("uploading") == 2  # after init, after its one chunk
    assert isinstance(outcome, Published)


async def test_a_larger_video_goes_in_chunks_and_reports_its_public_id(
    sandbox: SandboxHarness,
) -> None:
    url = sandbox.media_url("big.mp4", bytes=9_500)
    outcome, saved, _ = await run_to_end(
        sandbox, platform_on(sandbox), video_request(url), await credentials(sandbox)
    )
    assert (saved.data["chunk_size"], saved.data["total_chunks"]) == (2000, 4)
    assert saved.saves.count("uploading") == 5
    entries = await ledger(sandbox)
    assert len(entries) == 1
    assert entries[0]["marker"] == "t1"
    assert isinstance(outcome, Published)
    post_id = entries[0]["request"]["post_id"]
    # The public id comes with moderation; the flow reports it when TikTok has it.
    if outcome.platform_post_id is not None:
        assert outcome.platform_post_id == post_id
        assert outcome.permalink == f"https://www.tiktok.com/@herald.demo/video/{post_id}"


async def test_an_upload_reports_the_bytes_tiktok_holds_after_each_chunk(
    sandbox: SandboxHarness,
) -> None:
    url = sandbox.media_url("reported.mp4", bytes=9_500)
    saved = SavedCheckpoint()
    outcome = await platform_on(sandbox).publish(
        video_request(url), await credentials(sandbox), saved.open()
    )

    # Each acknowledged chunk, as the target reads it meanwhile (ADR 0018); then the wait.
    assert [(r.stage, r.bytes_sent, r.bytes_total) for r in saved.reports] == [
        (ProcessingStage.UPLOADING, sent, 9_500) for sent in (2_000, 4_000, 6_000, 9_500)
    ]
    assert saved.reports[-1].detail == "4 of 4 chunks sent"
    assert isinstance(outcome, Wait)
    assert outcome.stage is ProcessingStage.PROCESSING


async def test_a_video_under_a_verified_prefix_is_pulled(sandbox: SandboxHarness) -> None:
    prefix = sandbox.media_url("")
    await sandbox.client.post("/_sandbox/tiktok/verified_prefixes", json={"prefix": prefix})
    media = HarnessMedia(sandbox.client)
    platform = platform_on(sandbox, media, verified_url_prefixes=[prefix])
    url = sandbox.media_url("pulled.mp4", bytes=40_000)
    outcome, saved, _ = await run_to_end(
        sandbox, platform, video_request(url), await credentials(sandbox)
    )
    entries = await ledger(sandbox)
    assert [(e["kind"], e["request"]["source"]) for e in entries] == [
        ("video_published", "PULL_FROM_URL")
    ]
    assert media.opened == []  # Herald never downloaded it
    assert isinstance(outcome, Published)
    assert saved.data["publish_id"].startswith("v_pub_url")


async def test_prefixes_may_come_from_the_integration(sandbox: SandboxHarness) -> None:
    prefix = sandbox.media_url("")
    await sandbox.client.post("/_sandbox/tiktok/verified_prefixes", json={"prefix": prefix})
    creds = await credentials(sandbox, verified_url_prefixes=f"https://cdn.example.com/ {prefix}")
    url = sandbox.media_url("pulled.mp4", bytes=40_000)
    await run_to_end(sandbox, platform_on(sandbox), video_request(url), creds)
    assert [e["request"]["source"] for e in await ledger(sandbox)] == ["PULL_FROM_URL"]


async def test_a_three_photo_post_is_pulled(sandbox: SandboxHarness) -> None:
    prefix = sandbox.media_url("")
    await sandbox.client.post("/_sandbox/tiktok/verified_prefixes", json={"prefix": prefix})
    urls = [sandbox.media_url(f"p{i}.jpg", bytes=30_000) for i in range(3)]
    platform = platform_on(sandbox, verified_url_prefixes=[prefix])
    outcome, _, _ = await run_to_end(
        sandbox, platform, photo_request(urls, photo_cover_index=1), await credentials(sandbox)
    )
    entries = await ledger(sandbox)
    assert [e["kind"] for e in entries] == ["photo_published"]
    assert entries[0]["request"]["post_info"]["title"] == "Three loaves"
    assert isinstance(outcome, Published)


async def test_photos_outside_verified_prefixes_are_refused(sandbox: SandboxHarness) -> None:
    urls = [sandbox.media_url("p.jpg"), "https://elsewhere.example.com/p.jpg"]
    platform = platform_on(sandbox, verified_url_prefixes=[sandbox.media_url("")])
    with pytest.raises(Permanent) as caught:
        await run_to_end(sandbox, platform, photo_request(urls), await credentials(sandbox))
    assert caught.value.code == "url_ownership_unverified"
    assert "1 of 2 photos" in caught.value.message
    assert await ledger(sandbox) == []


async def test_inbox_mode_uploads_a_draft_without_creator_info(sandbox: SandboxHarness) -> None:
    url = sandbox.media_url("draft.mp4", bytes=3_000)
    outcome, _, _ = await run_to_end(
        sandbox, platform_on(sandbox), video_request(url, mode="inbox"), await credentials(sandbox)
    )
    assert [e["kind"] for e in await ledger(sandbox)] == ["inbox_delivered"]
    assert outcome == Published(None)


async def test_a_chunk_answering_5xx_is_sent_again_and_the_upload_completes(
    sandbox: SandboxHarness,
) -> None:
    await fault(sandbox, endpoint="upload", count=1, error={"status": 503})
    url = sandbox.media_url("big.mp4", bytes=7_000)
    media = HarnessMedia(sandbox.client)
    outcome, _, _ = await run_to_end(
        sandbox, platform_on(sandbox, media), video_request(url), await credentials(sandbox)
    )
    assert isinstance(outcome, Published)
    assert len(await ledger(sandbox)) == 1
    assert media.opened == [0, 0, 0]  # size probe, first try, the same chunk again


async def test_a_broken_download_resumes_at_the_acknowledged_chunk(
    sandbox: SandboxHarness,
) -> None:
    url = sandbox.media_url("big.mp4", bytes=9_000)
    media = HarnessMedia(sandbox.client, fail_after=[10**9, 5_000, 3_000, 3_000])
    platform = platform_on(sandbox, media, chunk_attempts=2)
    saved = SavedCheckpoint()
    with pytest.raises(Transient):
        await platform.publish(video_request(url), await credentials(sandbox), saved.open())
    assert saved.step == "uploading"
    # Chunks 0 and 1 went; the download broke in chunk 2, which went from a download opened
    # at byte 4000; it broke again in chunk 3, the attempt's last try.
    assert saved.data["acked"] == 6_000
    # Another attempt (another process, even) resumes from the checkpoint.
    outcome, _, _ = await run_to_end(
        sandbox, platform, video_request(url), await credentials(sandbox), saved
    )
    assert isinstance(outcome, Published)
    assert media.opened == [0, 0, 4_000, 6_000]
    assert len(await ledger(sandbox)) == 1


async def test_an_expired_upload_url_gets_a_new_init(sandbox: SandboxHarness) -> None:
    await fault(
        sandbox,
        endpoint="upload",
        count=1,
        error={"status": 403, "code": "upload_url_expired"},
    )
    url = sandbox.media_url("big.mp4", bytes=5_000)
    outcome, saved, _ = await run_to_end(
        sandbox, platform_on(sandbox), video_request(url), await credentials(sandbox)
    )
    assert isinstance(outcome, Published)
    assert len(saved.data["abandoned"]) == 1
    assert saved.data["abandoned"][0] != saved.data["publish_id"]
    assert len(await ledger(sandbox)) == 1


async def test_a_resume_after_the_url_expired_starts_a_new_upload(
    sandbox: SandboxHarness,
) -> None:
    url = sandbox.media_url("big.mp4", bytes=9_000)
    media = HarnessMedia(sandbox.client, fail_after=[10**9, 3_000])
    platform = platform_on(sandbox, media, chunk_attempts=1)
    saved = SavedCheckpoint()
    with pytest.raises(Transient):
        await platform.publish(video_request(url), await credentials(sandbox), saved.open())
    first = saved.data["publish_id"]
    sandbox.sandbox.clock.advance(3_600)
    await run_to_end(sandbox, platform, video_request(url), await credentials(sandbox), saved)
    assert saved.data["abandoned"] == [first]
    assert [e["object_id"] for e in await ledger(sandbox)] == [saved.data["publish_id"]]


async def test_a_redelivery_after_the_last_chunk_does_not_upload_again(
    sandbox: SandboxHarness,
) -> None:
    url = sandbox.media_url("big.mp4", bytes=5_000)
    platform = platform_on(sandbox)
    saved = SavedCheckpoint()
    outcome = await platform.publish(video_request(url), await credentials(sandbox), saved.open())
    assert isinstance(outcome, Wait)
    # A crash just before "processing" was saved: the checkpoint still says uploading.
    saved.step, saved.data["acked"] = "uploading", 2_000
    outcome, _, _ = await run_to_end(
        sandbox, platform, video_request(url), await credentials(sandbox), saved
    )
    assert isinstance(outcome, Published)
    assert len(await ledger(sandbox)) == 1


async def test_privacy_must_be_one_the_creator_offers(sandbox: SandboxHarness) -> None:
    request = video_request(
        sandbox.media_url("v.mp4", bytes=1500), privacy=TikTokPrivacy.FOLLOWER_OF_CREATOR
    )
    with pytest.raises(Permanent) as caught:
        await run_to_end(sandbox, platform_on(sandbox), request, await credentials(sandbox))
    assert caught.value.code == "privacy_level_option_mismatch"
    message = caught.value.message
    assert "PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY" in message
    assert "FOLLOWER_OF_CREATOR" in message


async def test_switches_the_creator_turned_off_stay_off(sandbox: SandboxHarness) -> None:
    creator = sandbox.sandbox.state.accounts.tiktok_users[sandbox.demo.tiktok_open_id]
    creator.duet_disabled = creator.comment_disabled = True
    request = video_request(sandbox.media_url("v.mp4", bytes=1500), disable_stitch=True)
    await run_to_end(sandbox, platform_on(sandbox), request, await credentials(sandbox))
    info = (await ledger(sandbox))[0]["request"]["post_info"]
    assert (info["disable_duet"], info["disable_comment"], info["disable_stitch"]) == (
        True,
        True,
        True,
    )


async def test_a_video_longer_than_the_creator_may_post(sandbox: SandboxHarness) -> None:
    creator = sandbox.sandbox.state.accounts.tiktok_users[sandbox.demo.tiktok_open_id]
    creator.max_video_post_duration_sec = 60
    request = video_request(sandbox.media_url("v.mp4", bytes=1500), duration_s=75)
    with pytest.raises(Permanent) as caught:
        await run_to_end(sandbox, platform_on(sandbox), request, await credentials(sandbox))
    assert caught.value.code == "duration_check_failed"
    assert await ledger(sandbox) == []


async def test_a_file_that_is_not_a_video_fails_for_good(sandbox: SandboxHarness) -> None:
    request = video_request(sandbox.media_url("doc.pdf", bytes=1500))
    with pytest.raises(Permanent) as caught:
        await run_to_end(sandbox, platform_on(sandbox), request, await credentials(sandbox))
    assert caught.value.code == "file_format_check_failed"


async def _pull_platform(sandbox: SandboxHarness) -> TikTokPublisher:
    prefix = sandbox.media_url("")
    await sandbox.client.post("/_sandbox/tiktok/verified_prefixes", json={"prefix": prefix})
    return platform_on(sandbox, verified_url_prefixes=[prefix])


async def test_a_crash_after_a_pull_init_finds_the_post_on_the_account_not_a_second_pull(
    sandbox: SandboxHarness,
) -> None:
    """The answer to a pull init is lost (the process dies before "processing" is saved): the
    redelivery looks for the post among the account's videos until TikTok shows it, and reports
    it published with its id; TikTok was asked to pull once."""
    platform = await _pull_platform(sandbox)
    api = platform.api
    inits: list[str] = []
    real_init = api.init_video

    async def init_then_die(*args: Any, **kwargs: Any) -> Any:
        answer = await real_init(*args, **kwargs)
        inits.append(answer.publish_id)
        raise asyncio.CancelledError  # the process dies before "processing" is saved

    request = video_request(sandbox.media_url("pulled.mp4", bytes=40_000))
    creds = await credentials(sandbox)
    saved = SavedCheckpoint()
    with patch.object(api, "init_video", init_then_die), pytest.raises(asyncio.CancelledError):
        await platform.publish(request, creds, saved.open())
    assert saved.step == "pull_sent"

    outcome = await platform.publish(request, creds, saved.open())  # the redelivery
    for _ in range(LOOKS):
        if isinstance(outcome, Published):
            break
        assert isinstance(outcome, Wait)
        assert outcome.step == "pull_sent"
        await sandbox.settle()
        sandbox.sandbox.clock.advance(60)
        outcome = await platform.publish(request, creds, saved.open())
    assert isinstance(outcome, Published), outcome
    shown = await ledger(sandbox)
    assert len(inits) == 1  # TikTok was asked to pull once
    assert len(shown) == 1
    assert outcome.platform_post_id


async def test_a_lost_pull_answer_with_nothing_on_the_account_ends_unknown(
    sandbox: SandboxHarness,
) -> None:
    """The init never reached TikTok, but the publisher cannot know: it looks `LOOKS` times,
    then fails the target as unknown with what to do, never pulling a second time."""
    platform = await _pull_platform(sandbox)
    api = platform.api

    async def die_before_sending(*args: Any, **kwargs: Any) -> Any:
        del args, kwargs
        raise asyncio.CancelledError

    request = video_request(sandbox.media_url("pulled.mp4", bytes=40_000))
    creds = await credentials(sandbox)
    saved = SavedCheckpoint()
    with patch.object(api, "init_video", die_before_sending):
        with pytest.raises(asyncio.CancelledError):
            await platform.publish(request, creds, saved.open())
        for _ in range(LOOKS - 1):  # nothing shows: it looks again, status_poll_s apart
            outcome = await platform.publish(request, creds, saved.open())
            assert isinstance(outcome, Wait)
            assert outcome.step == "pull_sent"
            sandbox.sandbox.clock.advance(60)
        with pytest.raises(Unknown) as caught:
            await platform.publish(request, creds, saved.open())
    assert caught.value.code == "interrupted_pull_init"
    assert caught.value.remediation
    assert await ledger(sandbox) == []


async def test_a_refused_pull_init_goes_back_to_start(sandbox: SandboxHarness) -> None:
    platform = await _pull_platform(sandbox)
    await fault(
        sandbox,
        endpoint="video/init",
        count=1,
        error={"status": 429, "code": "rate_limit_exceeded"},
    )
    request = video_request(sandbox.media_url("pulled.mp4", bytes=40_000))
    creds = await credentials(sandbox)
    saved = SavedCheckpoint()
    with pytest.raises(Throttled):
        await platform.publish(request, creds, saved.open())
    assert saved.step == "start"  # nothing started at TikTok: the retry may init again
    outcome, _, _ = await run_to_end(sandbox, platform, request, creds, saved)
    assert isinstance(outcome, Published)
    assert len(await ledger(sandbox)) == 1


async def test_a_failed_pull_is_retried_from_the_start(sandbox: SandboxHarness) -> None:
    prefix = sandbox.media_url("")
    await sandbox.client.post("/_sandbox/tiktok/verified_prefixes", json={"prefix": prefix})
    platform = platform_on(sandbox, verified_url_prefixes=[prefix])
    request = video_request(sandbox.media_url("gone.mp4", status=404))
    saved = SavedCheckpoint()
    with pytest.raises(Transient) as caught:
        await run_to_end(sandbox, platform, request, await credentials(sandbox), saved)
    assert caught.value.code == "video_pull_failed"
    assert (saved.step, saved.data["publish_id"]) == ("start", None)
    assert len(saved.data["failed"]) == 1


async def test_the_daily_cap_defers_to_the_next_day(sandbox: SandboxHarness) -> None:
    sandbox.sandbox.settings.tiktok.daily_post_cap = 1
    platform = platform_on(sandbox)
    creds = await credentials(sandbox)
    await run_to_end(sandbox, platform, video_request(sandbox.media_url("a.mp4")), creds)
    with pytest.raises(Throttled) as caught:
        await run_to_end(
            sandbox, platform, video_request(sandbox.media_url("b.mp4"), target="t2"), creds
        )
    assert caught.value.code == "spam_risk_too_many_posts"
    assert caught.value.retry_after_s == 24 * 3600
    assert "daily limit" in caught.value.message
    assert len(await ledger(sandbox)) == 1


async def test_an_invalid_token_needs_reauth(sandbox: SandboxHarness) -> None:
    creds = await credentials(sandbox)
    await sandbox.client.post("/_sandbox/tokens/expire", json={"token": creds.access_token})
    with pytest.raises(NeedsReauth) as caught:
        await run_to_end(
            sandbox, platform_on(sandbox), video_request(sandbox.media_url("a.mp4")), creds
        )
    assert caught.value.code == "access_token_invalid"


async def test_the_init_limit_is_kept_before_tiktok_answers_429(sandbox: SandboxHarness) -> None:
    platform = platform_on(sandbox, limits={"init_per_minute": 2})
    creds = await credentials(sandbox)
    for n in range(2):
        request = video_request(sandbox.media_url("a.mp4", bytes=1500), target=f"t{n}")
        assert isinstance(await platform.publish(request, creds, SavedCheckpoint().open()), Wait)
    with pytest.raises(Throttled) as caught:
        await platform.publish(
            video_request(sandbox.media_url("a.mp4"), target="t9"), creds, SavedCheckpoint().open()
        )
    assert caught.value.code == "rate_limit_local"
    assert 0 < (caught.value.retry_after_s or 0) <= 60

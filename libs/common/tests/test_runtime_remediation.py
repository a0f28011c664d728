"""A final failure's remediation says what a person can do now, never that Herald will try
again, and a `needs_reauth` one names the integration to reconnect (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.content import FacebookOptions, PostContent
from herald.delivery import Delivery
from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient
from herald.events import PostFailed, PostRequested, PostRetryScheduled
from herald.graph.errors import RETRY, WAIT
from herald.policy import RetryPolicy
from herald.runtime.handler import PublishHandler
from herald.testing import InMemoryLedger, ScriptedPlatform, StaticTokens
from herald.topics import Platform

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
INTEGRATION = "int_0f3a9c"


def _request() -> PostRequested:
    return PostRequested(
        post_id="p1",
        target_id="t1",
        business_id="b1",
        integration_id=INTEGRATION,
        platform=Platform.FACEBOOK,
        content=PostContent(text="hello"),
        options=FacebookOptions(),
        due_at=NOW,
        requested_at=NOW,
    )


async def _handled(
    *script: PlatformError, delivery: Delivery, tokens: StaticTokens | None = None
) -> PostFailed | PostRetryScheduled:
    handler = PublishHandler(
        platform=ScriptedPlatform(Platform.FACEBOOK, list(script)),
        ledger=InMemoryLedger(),
        tokens=tokens or StaticTokens(),
        policy=RetryPolicy(jitter=0.0, max_deferral_s=60.0),
        clock=lambda: NOW,
    )
    [event] = (await handler.handle(_request(), delivery)).events
    assert isinstance(event, PostFailed | PostRetryScheduled)
    return event


async def test_a_retry_still_to_come_says_herald_retries() -> None:
    event = await _handled(Transient("HTTP 503", code="2", remediation=RETRY), delivery=Delivery())

    assert isinstance(event, PostRetryScheduled)
    assert event.error is not None
    assert event.error.remediation == RETRY


@pytest.mark.parametrize(
    "error",
    [
        Transient("HTTP 503", code="2", remediation=RETRY),
        Transient("the download failed", code="media", remediation="The download is retried."),
        Throttled("too many calls", code="4", remediation=WAIT, retry_after_s=3600),
    ],
    ids=["transient", "transient-own-text", "throttled"],
)
async def test_the_last_failure_never_promises_a_retry(error: PlatformError) -> None:
    event = await _handled(error, delivery=Delivery(attempt=4, first_failure_at=NOW))

    assert isinstance(event, PostFailed)
    assert event.final
    remediation = event.error.remediation or ""
    assert remediation
    assert "automatically" not in remediation
    assert "retried" not in remediation
    assert "gave up" in remediation
    assert "retry the post" in remediation


@pytest.mark.parametrize(
    ("error", "specific"),
    [
        (NeedsReauth("(#190) token expired", code="190", remediation=None), None),
        (
            NeedsReauth(
                "(#190) checkpoint", code="190", remediation="Log in on facebook.com first."
            ),
            "Log in on facebook.com first.",
        ),
    ],
    ids=["no-remediation", "specific-remediation"],
)
async def test_needs_reauth_names_the_integration_to_reconnect(
    error: NeedsReauth, specific: str | None
) -> None:
    event = await _handled(error, error, delivery=Delivery())

    assert isinstance(event, PostFailed)
    remediation = event.error.remediation or ""
    assert INTEGRATION in remediation
    assert "reconnect" in remediation.lower()
    if specific is not None:
        assert specific in remediation


async def test_an_expired_integration_from_auth_service_names_it_too() -> None:
    revoked = NeedsReauth(
        f"integration {INTEGRATION} is expired; reconnect it", code="needs_reauth"
    )
    tokens = StaticTokens(fail_with=revoked)

    event = await _handled(delivery=Delivery(), tokens=tokens)

    assert isinstance(event, PostFailed)
    assert event.error.remediation is not None
    assert INTEGRATION in event.error.remediation


async def test_a_permanent_failure_keeps_its_own_remediation() -> None:
    error = Permanent("Duplicate status message", code="506", remediation="Change the text.")

    event = await _handled(error, delivery=Delivery())

    assert isinstance(event, PostFailed)
    assert event.error.remediation == "Change the text."

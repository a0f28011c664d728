"""A WhatsApp target's state follows delivery (ADR 0018): WhatsApp accepts a message at once and
reports later whether it got through. A target whose every recipient failed after acceptance
(131047, outside the 24-hour window) reads `failed` with that error and its remediation, not
`published`; its counts say how many recipients were accepted, sent, delivered, read, failed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from herald.errors import ErrorCategory
from herald.events import (
    Event,
    FailureDetail,
    MessageFailed,
    MessageSent,
    PostPublished,
    PostRequested,
    RecipientOutcome,
)
from herald.graph.errors import WHATSAPP_REFUSALS
from herald.testkit import producer, running, send_event
from herald.topics import Platform
from scheduler.testing import FakePublisher, SchedulerEnv, auth, client, eventually, post_status

pytestmark = pytest.mark.connected

TO = ("+351911000001",)  # a free-form text goes to one person


def accepted(request: PostRequested) -> Event | None:
    refs = request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"})
    outcomes = [
        RecipientOutcome(recipient_id=f"r{i}", message_id=f"wamid.{i}", status="accepted")
        for i in range(len(TO))
    ]
    return PostPublished(
        **refs,
        platform=request.platform,
        attempt=1,
        published_at=datetime.now(UTC),
        recipients=outcomes if request.platform is Platform.WHATSAPP else [],
    )


async def test_a_text_every_recipient_failed_reads_failed_with_131047(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()
    recipients = [{"recipient_id": f"r{i}", "to": to} for i, to in enumerate(TO)]
    body = {
        "content": {"text": "Your order shipped"},
        "targets": [
            {
                "integration_id": "wa-1",
                "platform": "whatsapp",
                "options": {"platform": "whatsapp", "recipients": recipients},
            }
        ],
    }
    window = FailureDetail(
        category=ErrorCategory.PERMANENT,
        code="131047",
        message="Re-engagement message",
        remediation=WHATSAPP_REFUSALS[131047],
    )
    async with FakePublisher(env.kafka_bootstrap, env.names, accepted), running(app):
        http = client(app)
        created = await http.post("/v1/posts", json=body, headers=auth())
        assert created.status_code == 201, created.text
        post_id = created.json()["post_id"]
        sent = await eventually(lambda: post_status(http, post_id, "published"))
        target_id = sent["targets"][0]["target_id"]
        ref: dict[str, Any] = {
            "post_id": post_id,
            "target_id": target_id,
            "business_id": "biz-a",
            "integration_id": "wa-1",
            "platform": Platform.WHATSAPP,
            "status_at": datetime.now(UTC),
        }
        async with producer(env.kafka_bootstrap) as out:
            for i in range(len(TO)):
                ids: dict[str, Any] = {"recipient_id": f"r{i}", "message_id": f"wamid.{i}"}
                sent_now = MessageSent(**ref, **ids)
                await send_event(out, env.names.message_status, sent_now, key=target_id)
                failed = MessageFailed(**ref, **ids, error=window)
                await send_event(out, env.names.message_status, failed, key=target_id)
        ended = await eventually(lambda: post_status(http, post_id, "failed"))

    assert sent["targets"][0]["state"] == "published"  # accepted, nothing known of delivery yet
    target = ended["targets"][0]
    assert target["state"] == "failed"
    assert target["last_error"]["code"] == "131047"
    assert target["last_error"]["remediation"] == WHATSAPP_REFUSALS[131047]
    counts = target["recipients"]
    assert (counts["recipients"], counts["accepted"], counts["sent"], counts["failed"]) == (
        1,
        1,
        0,
        1,
    )
    assert (counts["delivered"], counts["read"]) == (0, 0)

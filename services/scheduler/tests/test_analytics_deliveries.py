"""A WhatsApp broadcast's funnel on `GET /v1/posts/{id}/analytics`: sent, delivered, read and
failed recipients, the rates between the steps, the failures by WhatsApp's code and the
messages by pricing category, from the delivery statuses as they come (duplicated, in any
order); the same as CSV."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from herald.content import WhatsAppOptions
from herald.errors import ErrorCategory
from herald.events import (
    Event,
    FailureDetail,
    MessageDelivered,
    MessageFailed,
    MessageRead,
    MessageSent,
    MessageStatusEvent,
    PostPublished,
    PostRequested,
    RecipientOutcome,
)
from herald.testkit import producer, running, send_event
from herald.topics import Platform
from scheduler.testing import FakePublisher, SchedulerEnv, auth, client, eventually, post_status

pytestmark = pytest.mark.connected

TEMPLATE = {"name": "spring_sale", "language": "en_US"}


def accepted_all(request: PostRequested) -> Event | None:
    assert isinstance(request.options, WhatsAppOptions)
    outcomes = [
        RecipientOutcome(recipient_id=r.recipient_id, message_id=f"wamid.{r.to}", status="accepted")
        for r in request.options.recipients
    ]
    refs = request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"})
    return PostPublished(
        **refs,
        platform=Platform.WHATSAPP,
        attempt=1,
        published_at=datetime.now(UTC),
        recipients=outcomes,
    )


def statuses(request: PostRequested) -> list[MessageStatusEvent]:
    """Of 10 recipients: 4 read, 2 delivered, 1 sent, 2 failed (131026 twice), 1 failed
    (131049); every status once more, all shuffled."""
    assert isinstance(request.options, WhatsAppOptions)
    refs = [
        {
            **request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"}),
            "platform": Platform.WHATSAPP,
            "recipient_id": r.recipient_id,
            "message_id": f"wamid.{r.to}",
            "status_at": datetime.now(UTC),
        }
        for r in request.options.recipients
    ]
    priced = [{**ref, "pricing_category": "marketing"} for ref in refs]

    def failed(code: str) -> FailureDetail:
        return FailureDetail(category=ErrorCategory.PERMANENT, code=code, message=f"error {code}")

    events: list[MessageStatusEvent] = []
    for ref in priced[:4]:
        events += [MessageSent(**ref), MessageDelivered(**ref), MessageRead(**ref)]
    for ref in priced[4:6]:
        events += [MessageSent(**ref), MessageDelivered(**ref)]
    events.append(MessageSent(**priced[6]))
    for ref, code in zip(refs[7:], ("131026", "131026", "131049"), strict=True):
        # WhatsApp prices a message it sent; a failed status names no pricing.
        events += [MessageSent(**ref, pricing_category="marketing")]
        events += [MessageFailed(**ref, error=failed(code))]
    events *= 2
    random.Random(15).shuffle(events)
    return events


async def test_a_broadcasts_funnel_counts_each_recipient_once(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()
    rows = "phone,opted_in\n" + "".join(f"+3519{n:08d},yes\n" for n in range(10))
    async with (
        FakePublisher(env.kafka_bootstrap, env.names, accepted_all) as publisher,
        running(app),
        producer(env.kafka_bootstrap) as out,
    ):
        http = client(app)
        audience = (await http.post("/v1/audiences", json={"name": "a"}, headers=auth())).json()
        path = f"/v1/audiences/{audience['audience_id']}/imports"
        imported = await http.post(
            path, content=rows.encode(), headers=auth(**{"Content-Type": "text/csv"})
        )
        assert imported.status_code == 200, imported.text
        options = {
            "platform": "whatsapp",
            "audience_id": audience["audience_id"],
            "template": TEMPLATE,
        }
        target = {"integration_id": "wa-1", "platform": "whatsapp", "options": options}
        body = {"content": {}, "targets": [target]}
        created = await http.post("/v1/posts", json=body, headers=auth())
        assert created.status_code == 201, created.text
        post_id = created.json()["post_id"]
        await eventually(lambda: post_status(http, post_id, "published"), 60)
        for event in statuses(publisher.requests[0]):
            await send_event(out, env.names.message_status, event, key=event.target_id)

        async def funnel() -> dict[str, Any] | None:
            answer = await http.get(f"/v1/posts/{post_id}/analytics", headers=auth())
            (broadcast,) = answer.json()["targets"]
            found: dict[str, Any] = broadcast["deliveries"]
            done = found["read"] == 4 and found["failed"] == 3 and found["pricing"]
            return found if done else None

        found = await eventually(funnel, 60)
        table = await http.get(f"/v1/posts/{post_id}/analytics", headers=auth(Accept="text/csv"))

    assert (found["recipients"], found["sent"], found["delivered"]) == (10, 7, 6)
    assert found["rates"] == {"delivered": round(6 / 7, 6), "read": round(4 / 6, 6), "failed": 0.3}
    assert found["failures"] == [
        {"code": "131026", "count": 2, "message": "error 131026"},
        {"code": "131049", "count": 1, "message": "error 131049"},
    ]
    assert found["pricing"] == {"marketing": 10}  # once per message, whatever its statuses
    rows_out = table.text.splitlines()
    assert any(",deliveries.pricing.marketing,10,pricing.category," in r for r in rows_out)
    assert any(",deliveries.read,4,message.status," in r for r in rows_out)
    assert any(",deliveries.failed.131026,2,message.status," in r for r in rows_out)

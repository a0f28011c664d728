"""A broadcast tells its business how far it got (ADR 0021), on real Kafka and FerretDB: each
batch that ends gives `broadcast.progressed` with the batches published and failed so far, the
last one `broadcast.completed` with the final counts, each once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.cloudevents import decode
from herald.content import WhatsAppOptions
from herald.errors import ErrorCategory
from herald.events import (
    Event,
    FailureDetail,
    PostFailed,
    PostPublished,
    PostRequested,
    RecipientOutcome,
)
from herald.notices import NOTICES, BroadcastCompleted, BroadcastProgressed
from herald.testkit import Collector, running
from herald.topics import Platform
from scheduler.testing import FakePublisher, SchedulerEnv, auth, client, eventually

pytestmark = pytest.mark.connected

CONTACTS = 250  # three batches of at most 100: 100, 100, 50
FAILING = "+351900000007"  # the batch holding this number fails for good


def answer(request: PostRequested) -> Event | None:
    """Every batch accepted for each recipient, except the one holding `FAILING`."""
    assert isinstance(request.options, WhatsAppOptions)
    recipients = request.options.recipients
    refs = request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"})
    if any(r.to == FAILING for r in recipients):
        error = FailureDetail(
            category=ErrorCategory.PERMANENT, code="132001", message="Template does not exist"
        )
        now = datetime.now(UTC)
        return PostFailed(
            **refs, platform=Platform.WHATSAPP, attempt=1, final=True, error=error, failed_at=now
        )
    return PostPublished(
        **refs,
        platform=Platform.WHATSAPP,
        attempt=1,
        published_at=datetime.now(UTC),
        recipients=[
            RecipientOutcome(
                recipient_id=r.recipient_id, message_id=f"wamid.{r.to}", status="accepted"
            )
            for r in recipients
        ],
    )


async def test_a_broadcast_tells_its_progress_per_batch_and_its_completion_once(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()
    lines = ["phone,name,opted_in"] + [f"+3519{n:08d},Name{n},yes" for n in range(CONTACTS)]
    async with (
        Collector(env.kafka_bootstrap, [env.names.business_events]) as kafka,
        FakePublisher(env.kafka_bootstrap, env.names, answer) as publisher,
        running(app),
    ):
        http = client(app)
        audience = (await http.post("/v1/audiences", json={"name": "b"}, headers=auth())).json()
        path = f"/v1/audiences/{audience['audience_id']}/imports"
        text = ("\n".join(lines) + "\n").encode()
        imported = await http.post(path, content=text, headers=auth(**{"Content-Type": "text/csv"}))
        assert imported.json()["imported"] == CONTACTS, imported.text
        options = {
            "platform": "whatsapp",
            "audience_id": audience["audience_id"],
            "template": {"name": "spring_sale", "language": "en_US"},
        }
        body = {
            "content": {},
            "targets": [{"integration_id": "wa-1", "platform": "whatsapp", "options": options}],
        }
        created = await http.post("/v1/posts", json=body, headers=auth(**{"Idempotency-Key": "b"}))
        assert created.status_code == 201, created.text
        post_id = created.json()["post_id"]

        def told() -> list[BroadcastProgressed | BroadcastCompleted]:
            found: list[BroadcastProgressed | BroadcastCompleted] = []
            for record in kafka.received:
                notice = decode(record.value or b"", record.headers, expect=NOTICES).event
                if isinstance(notice, BroadcastProgressed):  # a BroadcastCompleted is one too
                    found.append(notice)
            return found

        async def completed() -> list[BroadcastProgressed | BroadcastCompleted]:
            found = told()
            return found if any(isinstance(n, BroadcastCompleted) for n in found) else []

        notices = await eventually(completed, 60)

    assert len(publisher.requests) == 3
    # Results are keyed by post, so the scheduler reads them in turn: one notice per batch ended.
    ended = [(n.batches_published, n.batches_failed) for n in notices]
    assert [type(n) for n in notices] == [
        BroadcastProgressed,
        BroadcastProgressed,
        BroadcastCompleted,
    ]
    assert [p + f for p, f in ended] == [1, 2, 3]
    assert ended[-1] == (2, 1)
    assert {n.batches for n in notices} == {3}
    assert {n.post_id for n in notices} == {post_id}
    parent = {n.target_id for n in notices}
    assert len(parent) == 1
    assert parent.isdisjoint(r.target_id for r in publisher.requests)  # the broadcast, not a batch

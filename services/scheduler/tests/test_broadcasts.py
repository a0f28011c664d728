"""Broadcasts on real FerretDB and Kafka: an audience of 1,000 contacts (10 opted out, 5 invalid
numbers refused at import) reaches exactly its 985 sendable contacts, each once, with their own
parameters; results are recorded per recipient; `message.status` events, duplicated and out of
order, add up to the right counts; a flagged number is left out of the next broadcast."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
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
    RecipientFlagged,
    RecipientOutcome,
)
from herald.testkit import producer, running, send_event
from herald.topics import Platform
from scheduler.testing import FakePublisher, SchedulerEnv, auth, client, eventually, post_status

pytestmark = pytest.mark.connected

TEMPLATE = {
    "name": "spring_sale",
    "language": "en_US",
    "components": [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "{{contact.first_name|friend}}"},
                {"type": "text", "text": "{{contact.city}}"},
            ],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": 0,
            "parameters": [{"type": "payload", "payload": "STOP"}],
        },
    ],
}


def phone(n: int) -> str:
    return f"+3519{n:08d}"


def accepted_all(request: PostRequested) -> Event | None:
    """The publisher's answer to a batch: every recipient accepted, one message id each."""
    if request.platform is not Platform.WHATSAPP:
        return None
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


async def make_audience(http: httpx.AsyncClient, csv_text: str) -> tuple[str, dict[str, Any]]:
    body = {"name": "spring customers", "fields": ["city"]}
    audience = (await http.post("/v1/audiences", json=body, headers=auth())).json()
    response = await http.post(
        f"/v1/audiences/{audience['audience_id']}/imports",
        content=csv_text.encode(),
        headers=auth(**{"Content-Type": "text/csv"}),
    )
    assert response.status_code == 200, response.text
    return audience["audience_id"], response.json()


async def broadcast(http: httpx.AsyncClient, audience_id: str, key: str) -> str:
    target = {
        "integration_id": "wa-1",
        "platform": "whatsapp",
        "options": {"platform": "whatsapp", "audience_id": audience_id, "template": TEMPLATE},
    }
    body = {"content": {}, "targets": [target]}
    created = await http.post("/v1/posts", json=body, headers=auth(**{"Idempotency-Key": key}))
    assert created.status_code == 201, created.text
    return str(created.json()["post_id"])


async def all_recipients(
    http: httpx.AsyncClient, post_id: str, **query: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 400, **query}
        if cursor:
            params["cursor"] = cursor
        page = await http.get(f"/v1/posts/{post_id}/recipients", params=params, headers=auth())
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def thousand_contacts() -> tuple[str, set[str], set[str]]:
    """1,000 rows: 990 opted in, 5 not, 5 invalid numbers (lines 997-1001)."""
    lines = ["phone,name,opted_in,city"]
    lines += [f"{phone(n)},Name{n} Surname,yes,City{n}" for n in range(990)]
    lines += [f"{phone(n)},Name{n} Surname,no,City{n}" for n in range(990, 995)]
    lines += [f"{bad},Bad,yes,Nowhere" for bad in ("12345", "+0123456789", "+1", "abc", "+4")]
    not_opted = {phone(n) for n in range(990, 995)}
    opted_out = {phone(n) for n in range(0, 50, 10)}  # opted out through the API afterwards
    return "\n".join(lines) + "\n", not_opted, opted_out


async def test_a_broadcast_reaches_each_sendable_contact_once_and_counts_statuses(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()
    csv_text, not_opted, opted_out = thousand_contacts()
    async with (
        FakePublisher(env.kafka_bootstrap, env.names, accepted_all) as publisher,
        running(app),
    ):
        http = client(app)
        audience_id, report = await make_audience(http, csv_text)
        for number in opted_out:
            made = await http.post("/v1/opt-outs", json={"phone": number}, headers=auth())
            assert made.status_code == 201
        post_id = await broadcast(http, audience_id, "spring-1")
        published = await eventually(lambda: post_status(http, post_id, "published"), 90)
        recipients = await all_recipients(http, post_id)
        events = status_events(publisher.requests)
        async with producer(env.kafka_bootstrap) as out:
            for event in events:
                await send_event(out, env.names.message_status, event, key=event.target_id)

        async def counted() -> dict[str, Any] | None:
            body: dict[str, Any] = (await http.get(f"/v1/posts/{post_id}", headers=auth())).json()
            counts = body["recipients"]
            found = (counts["sent"], counts["delivered"], counts["read"], counts["failed"])
            return body if found == (250, 200, 120, 30) else None

        final = await eventually(counted, 90)
        # The duplicates are counted by their own consumer, after the counts above: wait for them.
        await counters_reach(http, FIRST_COUNTS)
        metrics = (await http.get("/metrics")).text
        failed = await all_recipients(http, post_id, state="failed")
    assert (report["rows"], report["imported"], report["rejected_rows"]) == (1000, 995, 5)
    assert {(p["line"], p["code"]) for p in report["problems"]} == {
        (line, "invalid_phone") for line in range(997, 1002)
    }
    sent = [r for request in publisher.requests for r in request.options.recipients]  # type: ignore[union-attr]  # every request is WhatsApp
    assert len(publisher.requests) == 10
    assert all(len(request.options.recipients) <= 100 for request in publisher.requests)  # type: ignore[union-attr]  # as above
    assert {request.integration_id for request in publisher.requests} == {"wa-1"}
    numbers = [r.to for r in sent]
    assert len(numbers) == len(set(numbers)) == 985
    assert set(numbers).isdisjoint(not_opted | opted_out)
    for recipient in sent:
        n = int(recipient.to[-8:])
        [body] = recipient.components or []
        assert [p.text for p in body.parameters] == [f"Name{n}", f"City{n}"]
    target = published["targets"][0]
    assert target["role"] == "broadcast"
    assert target["broadcast"] == {
        "audience_id": audience_id,
        "batches": 10,
        "excluded": {"not_opted_in": 5, "opted_out": 5},
    }
    assert published["recipients"]["by_state"]["accepted"] == 985
    assert len(recipients) == 985
    assert {r["state"] for r in recipients} == {"accepted"}
    assert all(r["message_id"].startswith("wamid.+3519") for r in recipients)
    assert all("*" in r["to"] for r in recipients)
    counts = final["recipients"]
    assert (counts["sent"], counts["delivered"], counts["read"], counts["failed"]) == (
        250,
        200,
        120,
        30,
    )
    assert counts["by_state"]["accepted"] == 985 - 280
    assert {r["error_code"] for r in failed} == {"131026"}
    assert len(failed) == 30
    assert set(FIRST_COUNTS) <= set(metrics.splitlines())


FIRST_COUNTS = (
    'herald_scheduler_import_rejects_total{reason="invalid_phone"} 5.0',
    # The first 120 recipients had every status twice.
    *(f'herald_scheduler_statuses_total{{effect="duplicate",event="{s}"}} 120.0'
      for s in ("sent", "delivered", "read")),
    'herald_scheduler_broadcast_recipients_total{state="delivered"} 200.0',
)  # fmt: skip


def status_events(requests: list[PostRequested]) -> list[MessageStatusEvent]:
    """120 recipients read, 80 delivered, 50 sent, 30 failed after sent; every status of the
    first 120 twice, everything shuffled (reads before their sent)."""
    refs = [
        {
            **request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"}),
            "platform": Platform.WHATSAPP,
            "recipient_id": r.recipient_id,
            "message_id": f"wamid.{r.to}",
            "status_at": datetime.now(UTC),
        }
        for request in requests
        if isinstance(request.options, WhatsAppOptions)
        for r in request.options.recipients
    ]
    error = FailureDetail(
        category=ErrorCategory.PERMANENT, code="131026", message="Message undeliverable"
    )
    events: list[MessageStatusEvent] = []
    for ref in refs[:120]:
        events += [MessageSent(**ref), MessageDelivered(**ref), MessageRead(**ref)] * 2
    for ref in refs[120:200]:
        events += [MessageSent(**ref), MessageDelivered(**ref)]
    events += [MessageSent(**ref) for ref in refs[200:250]]
    for ref in refs[250:280]:
        events += [MessageSent(**ref), MessageFailed(**ref, error=error)]
    random.Random(8).shuffle(events)
    return events


async def test_a_flagged_number_is_marked_and_left_out_of_the_next_broadcast(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()
    rows = "\n".join(f"{phone(n)},Name{n},yes,City{n}" for n in range(30))
    async with (
        FakePublisher(env.kafka_bootstrap, env.names, accepted_all) as publisher,
        running(app),
    ):
        http = client(app)
        audience_id, _ = await make_audience(http, f"phone,name,opted_in,city\n{rows}\n")
        first = await broadcast(http, audience_id, "first")
        await eventually(lambda: post_status(http, first, "published"))
        [request] = publisher.requests
        assert isinstance(request.options, WhatsAppOptions)
        gone, blocked = request.options.recipients[3], request.options.recipients[7]
        async with producer(env.kafka_bootstrap) as out:
            for event in (
                flagged(request, gone.recipient_id, gone.to, "undeliverable", "131026"),
                flagged(request, blocked.recipient_id, None, "opted_out", "131050"),
                flagged(request, blocked.recipient_id, None, "opted_out", "131050"),
            ):
                await send_event(out, env.names.message_status, event, key=request.target_id)

        async def marked() -> dict[str, str] | None:
            page = await http.get(f"/v1/audiences/{audience_id}/contacts", headers=auth())
            statuses = {c["phone"]: c["status"] for c in page.json()["items"]}
            flagged_ones = {k: v for k, v in statuses.items() if v != "subscribed"}
            return flagged_ones if len(flagged_ones) == 2 else None

        statuses = await eventually(marked)
        second = await broadcast(http, audience_id, "second")
        # The target is stored `published` before its recipients' outcomes, and the counters
        # follow those (and the duplicate flag's own consumer): wait for the counts themselves.
        body = await eventually(lambda: settled(http, second))
        await counters_reach(http, FLAGGED_COUNTS)
    assert statuses == {gone.to: "undeliverable", blocked.to: "opted_out"}
    later = [r.to for r in publisher.requests[1].options.recipients]  # type: ignore[union-attr]  # a WhatsApp request
    assert len(later) == 28
    assert {gone.to, blocked.to}.isdisjoint(later)
    assert body["targets"][0]["broadcast"]["excluded"] == {"opted_out": 1, "undeliverable": 1}
    assert body["recipients"]["by_state"]["accepted"] == 28


FLAGGED_COUNTS = (
    'herald_scheduler_statuses_total{effect="flagged",event="recipient_flagged"} 2.0',
    'herald_scheduler_statuses_total{effect="known",event="recipient_flagged"} 1.0',
    'herald_scheduler_broadcast_recipients_total{state="queued"} 58.0',
    'herald_scheduler_broadcast_recipients_total{state="accepted"} 58.0',
    'herald_scheduler_broadcast_recipients_total{state="excluded_opted_out"} 1.0',
    'herald_scheduler_broadcast_expansions_total{outcome="expanded"} 2.0',
    'herald_scheduler_import_rows_total{outcome="imported"} 30.0',
)


async def settled(http: httpx.AsyncClient, post_id: str) -> dict[str, Any] | None:
    """The post once published and no recipient of it is still waiting for its outcome."""
    body = await post_status(http, post_id, "published")
    return body if body is not None and body["recipients"]["by_state"]["pending"] == 0 else None


async def counters_reach(http: httpx.AsyncClient, lines: tuple[str, ...]) -> None:
    """Wait until /metrics holds every line; fail naming those it never reached."""
    missing = list(lines)

    async def reached() -> bool:
        text = (await http.get("/metrics")).text
        missing[:] = [line for line in lines if line not in text]
        return not missing

    try:
        await eventually(reached)
    except AssertionError as exc:
        msg = f"counters never reached: {missing}"
        raise AssertionError(msg) from exc


def flagged(
    request: PostRequested,
    recipient_id: str,
    to: str | None,
    reason: Literal["undeliverable", "opted_out"],
    code: str,
) -> RecipientFlagged:
    return RecipientFlagged(
        **request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"}),
        platform=Platform.WHATSAPP,
        recipient_id=recipient_id,
        to=to,
        reason=reason,
        error=FailureDetail(category=ErrorCategory.PERMANENT, code=code, message="flagged"),
        flagged_at=datetime.now(UTC),
    )

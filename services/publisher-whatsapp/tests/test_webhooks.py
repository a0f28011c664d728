"""The status webhook on in-memory stores, through its HTTP routes: the handshake, signatures
over the raw body, unknown numbers, statuses to `message.status` once per (message, status),
out of order, failures with flags, and messages not yet in the log."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from herald.events import MessageDelivered, MessageFailed, MessageRead, MessageSent
from publisher_whatsapp.api.webhooks import router
from publisher_whatsapp.ports import SentMessage
from publisher_whatsapp.settings import WebhookSettings
from publisher_whatsapp.testing import (
    MemoryFlags,
    MemoryMessages,
    RecordingObserver,
    RecordingSink,
    signed,
    status_delivery,
)
from publisher_whatsapp.webhooks import StatusReceiver

pytestmark = pytest.mark.unit

SECRET = "current-secret"
OLD = "previous-secret"
PHONE = "106540352242922"
PATH = "/webhooks/whatsapp"
AT = 1_800_000_000


class Hook:
    def __init__(self) -> None:
        self.store = MemoryMessages(numbers={PHONE})
        self.sink = RecordingSink()
        self.flags = MemoryFlags()
        self.observer = RecordingObserver()
        self.now = AT + 5.0
        self.receiver = StatusReceiver(
            store=self.store,
            sink=self.sink,
            flags=self.flags,
            observer=self.observer,
            secrets=[SECRET, OLD],
            verify_token="verify-me",
            grace_s=600.0,
            clock=lambda: self.now,
        )
        app = FastAPI()
        app.include_router(
            router(self.receiver, WebhookSettings(path=PATH, max_body_bytes=64 * 1024))
        )
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")

    def sent(self, *message_ids: str) -> None:
        for i, message_id in enumerate(message_ids):
            self.store.stored[message_id] = SentMessage(
                message_id=message_id,
                phone_number_id=PHONE,
                post_id="p1",
                target_id="t1",
                business_id="b1",
                integration_id="i1",
                recipient_id=f"r{i}",
                to=f"+1555000000{i}",
                sent_at=datetime.now(UTC),
            )

    async def post(self, body: bytes, signature: str | None = "sign") -> httpx.Response:
        headers = {"content-type": "application/json"}
        if signature == "sign":
            signature = signed(body, SECRET)
        if signature is not None:
            headers["x-hub-signature-256"] = signature
        return await self.http.post(PATH, content=body, headers=headers)


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    built = Hook()
    yield built
    await built.http.aclose()


async def test_the_handshake_echoes_the_challenge_only_for_our_verify_token(hook: Hook) -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}

    ok = await hook.http.get(PATH, params=good)
    wrong = await hook.http.get(PATH, params=good | {"hub.verify_token": "guess"})
    mode = await hook.http.get(PATH, params=good | {"hub.mode": "unsubscribe"})
    script = await hook.http.get(PATH, params=good | {"hub.challenge": "<script>"})

    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["content-type"].startswith("text/plain")
    assert [wrong.status_code, mode.status_code, script.status_code] == [403, 403, 403]
    assert hook.observer.rejections["handshake"] == 3


async def test_every_status_becomes_one_event_keyed_by_its_target(hook: Hook) -> None:
    hook.sent("wamid.1", "wamid.2")
    body = status_delivery(
        PHONE,
        [("wamid.1", "sent", None), ("wamid.1", "delivered", None), ("wamid.2", "read", None)],
        at=AT,
    )

    response = await hook.post(body)

    assert response.status_code == 200
    events = [e for _, e in hook.sink.events]
    assert [type(e) for e in events] == [MessageSent, MessageDelivered, MessageRead]
    assert [(e.message_id, e.recipient_id, e.target_id) for e in events] == [
        ("wamid.1", "r0", "t1"),
        ("wamid.1", "r0", "t1"),
        ("wamid.2", "r1", "t1"),
    ]
    assert events[0].status_at == datetime.fromtimestamp(AT, UTC)
    assert {e.pricing_category for e in events} == {"marketing"}  # the webhook's pricing


async def test_a_delivery_replayed_three_times_counts_once(hook: Hook) -> None:
    hook.sent("wamid.1")
    body = status_delivery(PHONE, [("wamid.1", "delivered", None)])

    answers = [(await hook.post(body)).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 200]
    assert len(hook.sink.events) == 1
    assert hook.observer.statuses == {("delivered", False): 1, ("delivered", True): 3}


async def test_statuses_out_of_order_each_count_once(hook: Hook) -> None:
    hook.sent("wamid.1")
    for status in ("read", "delivered", "sent", "read"):
        await hook.post(status_delivery(PHONE, [("wamid.1", status, None)]))

    assert sorted(type(e).__name__ for _, e in hook.sink.events) == [
        "MessageDelivered",
        "MessageRead",
        "MessageSent",
    ]


async def test_a_re_emission_after_a_failed_produce_keeps_the_event_id(hook: Hook) -> None:
    hook.sent("wamid.1")
    body = status_delivery(PHONE, [("wamid.1", "sent", None)])
    hook.sink.broken = ConnectionError("kafka away")

    with pytest.raises(ConnectionError):
        await hook.receiver.receive(body, signed(body, SECRET))
    hook.sink.broken = None
    await hook.post(body)
    await hook.post(body)

    [(event_id, _)] = hook.sink.events  # emitted again once, then a duplicate
    assert event_id == str(uuid.uuid5(uuid.NAMESPACE_URL, "whatsapp-status:wamid.1:sent"))


async def test_a_failed_status_carries_the_code_and_flags_the_contact(hook: Hook) -> None:
    hook.sent("wamid.1")

    await hook.post(status_delivery(PHONE, [("wamid.1", "failed", 131026)]))

    [(_, event)] = hook.sink.events
    assert isinstance(event, MessageFailed)
    assert event.error.code == "131026"
    assert event.error.category.value == "permanent"
    assert "cannot deliver" in (event.error.remediation or "")
    [flag] = hook.flags.flags.values()
    assert (flag.reason, flag.to, flag.source, flag.message_id) == (
        "undeliverable",
        "+15550000000",
        "status",
        "wamid.1",
    )


@pytest.mark.parametrize(
    ("case", "signature", "reason"),
    [
        ("missing header", None, "missing_signature"),
        ("wrong secret", signed(b"x", "not-the-secret"), "bad_signature"),
        ("not sha256", "sha1=" + "0" * 40, "bad_signature"),
        ("garbage", "sha256=zz", "bad_signature"),
    ],
)
async def test_unsigned_or_wrongly_signed_deliveries_are_refused(
    hook: Hook, case: str, signature: str | None, reason: str
) -> None:
    hook.sent("wamid.1")
    body = status_delivery(PHONE, [("wamid.1", "sent", None)])
    if signature is not None and case == "wrong secret":
        signature = signed(body, "not-the-secret")

    response = await hook.post(body, signature)

    assert response.status_code == 401
    assert response.json() == {"error": "rejected"}
    assert hook.sink.events == []
    assert hook.observer.rejections[reason] == 1


async def test_a_re_serialised_body_fails_the_signature_of_the_original(hook: Hook) -> None:
    hook.sent("wamid.1")
    original = status_delivery(PHONE, [("wamid.1", "sent", None)])
    reserialised = json.dumps(json.loads(original)).encode()  # same JSON, other bytes

    response = await hook.post(reserialised, signed(original, SECRET))

    assert response.status_code == 401
    assert hook.sink.events == []


async def test_the_previous_secret_is_accepted_during_a_rotation(hook: Hook) -> None:
    hook.sent("wamid.1")
    body = status_delivery(PHONE, [("wamid.1", "sent", None)])

    response = await hook.post(body, signed(body, OLD))

    assert response.status_code == 200
    assert len(hook.sink.events) == 1


async def test_a_delivery_about_an_unknown_phone_number_is_refused(hook: Hook) -> None:
    hook.sent("wamid.1")
    body = status_delivery("999999999", [("wamid.1", "sent", None)])

    response = await hook.post(body)

    assert response.status_code == 403
    assert hook.sink.events == []
    assert hook.observer.rejections["unknown_number"] == 1


async def test_unreadable_and_oversized_deliveries_are_refused(hook: Hook) -> None:
    unreadable = b'{"object": "page", "entry": []}'
    huge = b"{" + b" " * (64 * 1024) + b"}"

    first = await hook.post(unreadable)
    second = await hook.post(huge)

    assert (first.status_code, second.status_code) == (400, 413)
    assert hook.observer.rejections == {"unreadable": 1, "too_large": 1}


async def test_a_status_of_a_message_not_yet_logged_is_refused_for_redelivery(hook: Hook) -> None:
    hook.sent("wamid.1")
    body = status_delivery(PHONE, [("wamid.1", "sent", None), ("wamid.new", "sent", None)], at=AT)

    first = await hook.post(body)
    hook.sent("wamid.1", "wamid.new")
    second = await hook.post(body)

    assert (first.status_code, second.status_code) == (503, 200)
    assert sorted(e.message_id for _, e in hook.sink.events) == ["wamid.1", "wamid.new"]


async def test_an_old_status_of_an_unknown_message_is_dropped(hook: Hook) -> None:
    hook.now = AT + 3600.0
    body = status_delivery(PHONE, [("wamid.elsewhere", "delivered", None)], at=AT)

    response = await hook.post(body)

    assert response.status_code == 200
    assert hook.sink.events == []
    assert hook.observer.unknown == {False: 1}


async def test_a_status_repeated_inside_one_delivery_is_one_event(hook: Hook) -> None:
    hook.sent("wamid.1")
    body = status_delivery(PHONE, [("wamid.1", "read", None), ("wamid.1", "read", None)])

    response = await hook.post(body)

    assert response.status_code == 200
    assert len(hook.sink.events) == 1

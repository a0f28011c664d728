"""publisher-whatsapp on real Kafka and FerretDB against the platform sandbox over HTTP, both
under uvicorn: every message kind, a batch whose recipients meet the pair rate, undeliverable
numbers and opt-outs, the 24-hour window, the pace as the sandbox counts it, and the status
webhook's checks, signed by the sandbox as Meta signs."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from herald.events import (
    IntegrationConnected,
    IntegrationStatus,
    MessageDelivered,
    MessageFailed,
    MessageRead,
    MessageSent,
    PostFailed,
    PostPublished,
    PostRequested,
    RecipientFlagged,
)
from herald.testkit import Collector, producer, send_event
from herald.topics import Platform
from platform_sandbox.webhooks import meta_body, meta_signature
from publisher_testenv.whatsapp import APP_SECRET, Env, per_second
from publisher_whatsapp.adapters.store import FLAGS
from publisher_whatsapp.testing import signed, status_delivery, whatsapp_request

pytestmark = pytest.mark.connected

HELLO = {"name": "hello_world", "language": "en_US"}
STATUS_EVENTS = (MessageSent, MessageDelivered, MessageRead, MessageFailed)


def person(i: int, **extra: Any) -> dict[str, Any]:
    return {"recipient_id": f"r{i}", "to": f"+1555200{i:04d}", **extra}


def wa(i: int) -> str:
    return f"1555200{i:04d}"


async def produce(env: Env, *requests: PostRequested) -> None:
    async with producer(env.kafka_bootstrap) as client:
        for request in requests:
            await send_event(client, env.requested, request, key=request.integration_id)


def finished(out: Collector, targets: set[str]) -> bool:
    done = {e.target_id for e in out.events(PostPublished)}
    return targets <= done | {e.target_id for e in out.events(PostFailed)}


def statuses(out: Collector) -> Counter[tuple[str, str]]:
    """(message id, event type) → how many events."""
    return Counter(
        (e.message_id, type(e).__name__) for cls in STATUS_EVENTS for e in out.events(cls)
    )


async def run(
    env: Env, *requests: PostRequested, hooks: bool = False, timeout_s: float = 90, **overrides: Any
) -> Collector:
    topics = [env.names.post_results, env.names.message_status]
    async with Collector(env.kafka_bootstrap, topics) as out:
        with env.serving(**overrides) as url:
            if hooks:
                await env.sandbox.route_webhooks(f"{url}/webhooks/whatsapp")
            await produce(env, *requests)
            targets = {r.target_id for r in requests}
            await out.wait_for(lambda c: finished(c, targets), timeout_s=timeout_s)
    return out


async def test_text_with_preview_url_goes_out_and_its_statuses_come_back(env: Env) -> None:
    await env.sandbox.inbound(wa(1))
    request = whatsapp_request(
        "text", [person(1)], text="Menu: https://bakery.example/m", preview_url=True
    )
    topics = [env.names.post_results, env.names.message_status]

    async with Collector(env.kafka_bootstrap, topics) as out:
        with env.serving() as url:
            await env.sandbox.route_webhooks(
                f"{url}/webhooks/whatsapp", duplicate_probability=1.0, reorder=True
            )
            await produce(env, request)
            await out.wait_for(
                lambda c: finished(c, {"text"}) and len(c.events(MessageRead)) == 1,
                timeout_s=60,
            )
            await asyncio.sleep(1.0)  # the duplicates and anything late

    [published] = out.events(PostPublished)
    [outcome] = published.recipients
    assert outcome.status == "accepted"
    [entry] = await env.sandbox.accepted()
    assert entry["request"]["params"]["text"] == {
        "body": "Menu: https://bakery.example/m",
        "preview_url": True,
    }
    assert entry["object_id"] == outcome.message_id
    assert statuses(out) == {
        (outcome.message_id, "MessageSent"): 1,
        (outcome.message_id, "MessageDelivered"): 1,
        (outcome.message_id, "MessageRead"): 1,
    }
    [read] = out.events(MessageRead)
    assert (read.target_id, read.recipient_id, read.post_id) == ("text", "r1", "post-text")


@pytest.mark.parametrize("upload", ["never", "always"])
async def test_image_video_and_document_by_link_and_by_uploaded_id(env: Env, upload: str) -> None:
    sb = env.sandbox
    files = {
        "image": sb.media("a.jpg"),
        "video": sb.media("v.mp4"),
        "document": sb.media("menu.pdf"),
    }
    requests = []
    for i, (kind, url) in enumerate(files.items()):
        await sb.inbound(wa(i))
        item = {"kind": kind, "url": url} | ({"filename": "menu.pdf"} if kind == "document" else {})
        requests.append(whatsapp_request(kind, [person(i)], text=f"A {kind}", media=[item]))

    out = await run(env, *requests, media={"upload": upload})

    assert {e.target_id for e in out.events(PostPublished)} == set(files)
    entries = {e["request"]["params"]["type"]: e["request"]["params"] for e in await sb.accepted()}
    for kind, url in files.items():
        sent = entries[kind][kind]
        assert sent["caption"] == f"A {kind}"
        if upload == "never":
            assert sent["link"] == url
        else:
            assert "link" not in sent
            assert sent["id"]
    assert entries["document"]["document"]["filename"] == "menu.pdf"


async def test_an_upload_from_the_sandboxs_admin_api_is_refused_not_sent(env: Env) -> None:
    """Herald uploads files WhatsApp cannot fetch; the fetcher trusts the sandbox's media path
    only (ADR 0002), so an "image" at the sandbox's admin API is refused with a reason naming
    that path, and no message goes out."""
    sb = env.sandbox
    await sb.inbound(wa(7))
    item = {"kind": "image", "url": f"{sb.url}/_sandbox/accounts?as=a.jpg"}
    request = whatsapp_request("admin", [person(7)], text="An image", media=[item])

    out = await run(env, request, media={"upload": "always"})

    [failed] = out.events(PostFailed)
    assert failed.error.code == "media_url_outside_prefix"
    assert f"trusted only under {sb.url}/_sandbox/media/" in failed.error.message
    assert not out.events(PostPublished)
    assert await sb.accepted() == []


def texts(*values: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": v} for v in values]


def order_update(header: str) -> dict[str, Any]:
    """The sandbox's demo template: image header, two body parameters, one URL button."""
    return {
        "name": "order_update",
        "language": "en_US",
        "components": [
            {"type": "header", "parameters": [{"type": "image", "link": header}]},
            {"type": "body", "parameters": texts("everyone", "#0")},
            {"type": "button", "sub_type": "url", "index": 0, "parameters": texts("o/0")},
        ],
    }


async def test_a_template_with_header_body_and_button_parameters(env: Env) -> None:
    sb = env.sandbox
    template = order_update(sb.media("h.jpg"))
    own = [{"type": "body", "parameters": texts("Ana", "#7")}]
    recipients = [person(1), person(2, components=own), person(3)]

    out = await run(env, whatsapp_request("tpl", recipients, template=template))

    [published] = out.events(PostPublished)
    assert [o.status for o in published.recipients] == ["accepted"] * 3
    bodies = {e["request"]["to"]: e["request"]["params"]["template"] for e in await sb.accepted()}
    assert set(bodies) == {wa(1), wa(2), wa(3)}
    names = {to: t["components"][1]["parameters"][0]["text"] for to, t in bodies.items()}
    assert names == {wa(1): "everyone", wa(2): "Ana", wa(3): "everyone"}
    assert bodies[wa(2)]["language"] == {"policy": "deterministic", "code": "en_US"}
    assert bodies[wa(1)]["components"][2] == {
        "type": "button",
        "parameters": [{"type": "text", "text": "o/0"}],
        "sub_type": "url",
        "index": "0",
    }


async def pre_send(env: Env, to: str) -> None:
    """One message straight to the sandbox: the pair (number, `to`) spends its only token."""
    token = (await env.tokens.get("pre-send", "b1")).access_token
    url = f"{env.sandbox.url}/graph.facebook.com/v23.0/{env.sandbox.demo.phone_number_id}/messages"
    template = {"name": "hello_world", "language": {"code": "en_US"}}
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    body |= {"to": to, "type": "template", "template": template}
    answer = await env.sandbox.http.post(
        url, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "env", [{"whatsapp": {"pair_burst": 1, "pair_interval_s": 2.0}}], indirect=True
)
async def test_a_batch_whose_recipients_meet_refusals_gets_every_outcome(env: Env) -> None:
    sb = env.sandbox
    await pre_send(env, wa(1))
    await sb.fault(
        endpoint="messages", method="POST", error={"code": 131026, "status": 400}, count=1
    )
    await sb.undeliverable(wa(2), 131026)
    await sb.undeliverable(wa(3), 131050)
    recipients = [person(0), person(1), person(2), person(3), person(4)]  # r0 meets the fault
    topics = [env.names.post_results, env.names.message_status]

    async with Collector(env.kafka_bootstrap, topics) as out:
        with env.serving() as url:
            await sb.route_webhooks(f"{url}/webhooks/whatsapp")
            await produce(env, whatsapp_request("batch", recipients, template=HELLO))
            await out.wait_for(
                lambda c: finished(c, {"batch"}) and len(c.events(RecipientFlagged)) == 3,
                timeout_s=90,
            )

    [published] = out.events(PostPublished)
    outcomes = {o.recipient_id: (o.status, o.error_code) for o in published.recipients}
    assert outcomes == {
        "r0": ("failed", "131026"),
        "r1": ("accepted", None),  # refused with 131056 first, sent after the backoff
        "r2": ("accepted", None),
        "r3": ("accepted", None),
        "r4": ("accepted", None),
    }
    failed = {e.recipient_id: e.error.code for e in out.events(MessageFailed)}
    assert failed == {"r2": "131026", "r3": "131050"}
    sent = Counter(e["request"]["to"] for e in await sb.accepted())
    assert sent == {wa(1): 2, wa(2): 1, wa(3): 1, wa(4): 1}  # wa(1): ours and the pre-send
    flagged = {(e.recipient_id, e.reason, e.to, e.error.code) for e in out.events(RecipientFlagged)}
    assert flagged == {
        ("r0", "undeliverable", "+15552000000", "131026"),
        ("r2", "undeliverable", "+15552000002", "131026"),
        ("r3", "opted_out", "+15552000003", "131050"),
    }
    stored = {(d["recipient_id"], d["source"], d["relayed"]) async for d in env.db[FLAGS].find({})}
    assert stored == {("r0", "send", True), ("r2", "status", True), ("r3", "status", True)}


@pytest.mark.parametrize("env", [{"whatsapp": {"window_error": "sync"}}], indirect=True)
async def test_a_free_form_message_outside_the_window_fails_send_a_template(env: Env) -> None:
    out = await run(env, whatsapp_request("late", [person(9)], text="Your bread is ready"))

    [failed] = out.events(PostFailed)
    assert failed.error.code == "131047"
    assert "send a template" in (failed.error.remediation or "")
    assert await env.sandbox.accepted() == []


async def test_a_window_closed_after_acceptance_arrives_as_a_failed_status(env: Env) -> None:
    topics = [env.names.post_results, env.names.message_status]
    async with Collector(env.kafka_bootstrap, topics) as out:
        with env.serving() as url:
            await env.sandbox.route_webhooks(f"{url}/webhooks/whatsapp")
            await produce(env, whatsapp_request("late", [person(8)], text="Your bread is ready"))
            await out.wait_for(
                lambda c: finished(c, {"late"}) and len(c.events(MessageFailed)) == 1,
                timeout_s=60,
            )

    [published] = out.events(PostPublished)
    [failed] = out.events(MessageFailed)
    assert failed.message_id == published.recipients[0].message_id
    assert failed.error.code == "131047"
    assert "send a template" in (failed.error.remediation or "")


@pytest.mark.parametrize("env", [{"whatsapp": {"throughput_mps": 20}}], indirect=True)
async def test_the_pace_is_held_at_the_configured_rate_as_the_sandbox_counts(env: Env) -> None:
    recipients = [person(i) for i in range(100)]

    out = await run(
        env, whatsapp_request("paced", recipients, template=HELLO), pace={"throughput_mps": 20}
    )

    [published] = out.events(PostPublished)
    assert Counter(o.status for o in published.recipients) == {"accepted": 100}
    windows = per_second(await env.sandbox.accepted())
    assert sum(windows.values()) == 100
    assert max(windows.values()) <= 20, windows
    assert len(windows) >= 5  # 100 messages at under 20 a second cannot fit in fewer seconds


async def delivered_payload(env: Env, out: Collector, url: str) -> tuple[dict[str, Any], str]:
    await env.sandbox.route_webhooks(f"{url}/webhooks/whatsapp")
    await env.sandbox.inbound(wa(5))
    await produce(env, whatsapp_request("hooked", [person(5)], text="hi"))
    await out.wait_for(lambda c: len(c.events(MessageRead)) == 1, timeout_s=60)
    history = (await env.sandbox.webhooks())["delivered"]
    payload = next(
        d["body"] for d in history if d["summary"].startswith("delivered") and d["status"] == 200
    )
    return payload, payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]


async def test_forged_and_altered_webhooks_are_rejected_and_a_replay_counts_once(env: Env) -> None:
    topics = [env.names.post_results, env.names.message_status]
    async with Collector(env.kafka_bootstrap, topics) as out, httpx.AsyncClient() as http:
        with env.serving() as url:
            payload, message_id = await delivered_payload(env, out, url)
            hook = f"{url}/webhooks/whatsapp"
            genuine = meta_body(payload)  # the bytes the sandbox sent, as Meta serialises them
            signature = meta_signature(APP_SECRET, genuine)
            unknown = status_delivery("999000999", [(message_id, "delivered", None)])

            post = partial(post_signed, http, hook)
            before = await scrape(http, url)
            answers = {
                "wrong signature": await post(
                    genuine, meta_signature("not-the-app-secret", genuine)
                ),
                "missing header": await post(genuine, None),
                "re-serialised": await post(json.dumps(payload).encode(), signature),
                "unknown number": await post(unknown, signed(unknown, APP_SECRET)),
                "replay 1": await post(genuine, signature),
                "replay 2": await post(genuine, signature),
                "replay 3": await post(genuine, signature),
            }
            await asyncio.sleep(1.0)
            after = await scrape(http, url)

    assert answers == {
        "wrong signature": 401,
        "missing header": 401,
        "re-serialised": 401,
        "unknown number": 403,
        "replay 1": 200,
        "replay 2": 200,
        "replay 3": 200,
    }
    assert statuses(out)[(message_id, "MessageDelivered")] == 1
    rejected = "herald_webhook_rejected_total"
    assert after - before >= Counter(
        {
            (rejected, ("platform", "whatsapp"), ("reason", "bad_signature")): 2,
            (rejected, ("platform", "whatsapp"), ("reason", "missing_signature")): 1,
            (rejected, ("platform", "whatsapp"), ("reason", "unknown_number")): 1,
            ("herald_whatsapp_statuses_total", ("duplicate", "true"), ("status", "delivered")): 3,
        }
    )


async def post_signed(http: httpx.AsyncClient, hook: str, body: bytes, sig: str | None) -> int:
    headers = {"content-type": "application/json"}
    if sig is not None:
        headers["x-hub-signature-256"] = sig
    return (await http.post(hook, content=body, headers=headers)).status_code


async def scrape(http: httpx.AsyncClient, url: str) -> Counter[tuple[Any, ...]]:
    """Counter samples of the app's `/metrics`, keyed by name and sorted labels."""
    text = (await http.get(f"{url}/metrics")).text
    found: Counter[tuple[Any, ...]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_total"):
                found[(sample.name, *sorted(sample.labels.items()))] = int(sample.value)
    return found


async def test_a_connected_number_is_known_to_the_webhook_before_anything_is_sent(
    env: Env,
) -> None:
    number = "107000000000777"
    body = status_delivery(number, [("wamid.elsewhere", "delivered", None)], at=1_700_000_000)
    connected = IntegrationConnected(
        integration_id="wa-new",
        business_id="b1",
        platform=Platform.WHATSAPP,
        account_id=number,
        status=IntegrationStatus.ACTIVE,
        occurred_at=datetime.now(UTC),
    )
    headers = {"content-type": "application/json", "x-hub-signature-256": signed(body, APP_SECRET)}
    async with httpx.AsyncClient() as http:
        with env.serving() as url:
            before = await http.post(f"{url}/webhooks/whatsapp", content=body, headers=headers)
            async with producer(env.kafka_bootstrap) as client:
                await send_event(client, env.names.integration_events, connected, key="wa-new")
            after = before
            for _ in range(100):
                after = await http.post(f"{url}/webhooks/whatsapp", content=body, headers=headers)
                if after.status_code != 403:
                    break
                await asyncio.sleep(0.2)

    assert (before.status_code, after.status_code) == (403, 200)
    assert await env.db["wa_numbers"].find_one({"_id": number}) is not None

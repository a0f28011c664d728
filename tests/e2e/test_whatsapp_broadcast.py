"""WhatsApp broadcasts through the whole system (every service a process, real Kafka and FerretDB,
the sandbox's WhatsApp business account connected through OAuth), as issue 8 asks them shown:

- a template broadcast to an audience of 1,000 contacts imported from CSV: the 5 invalid numbers
  are refused at import, each reported by line and reason (they never reach the platform), and 10
  contacts opt out afterwards, so 985 messages are on the sandbox's ledger, each number once,
  each with its contact's parameters, none to an opted-out number. 5 of the 985 numbers are ones
  the platform cannot deliver to (4 undeliverable, 131026; 1 opted out of marketing, 131050):
  each is reported failed with the code and reason of the platform's `failed` status, and its
  contact is flagged. Sent, delivered, read and failed counts arrive through signed webhooks (a
  quarter delivered twice, newest first) and equal what the sandbox delivered;
- forged or altered webhooks refused by publisher-whatsapp, and a genuine delivery replayed three
  times counted once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import Connected

from herald_localstack.secrets import StackSecrets

pytestmark = pytest.mark.e2e

TERMINAL = ("published", "partially_published", "failed", "cancelled")
# The sandbox's Meta app secret (its documented default): what signs its WhatsApp webhooks.
SANDBOX_APP_SECRET = "sandbox-meta-app-secret"
SIGNATURE = "x-hub-signature-256"
STATUSES = ("sent", "delivered", "read", "failed")

# ---------------------------------------------------------------- the business's side: the API


def api(
    connected: Connected,
    method: str,
    path: str,
    *,
    expect: int | tuple[int, ...] = (200, 201),
    **kwargs: Any,
) -> Any:
    """A call to the scheduler's API with the business's key; the JSON answer."""
    headers = {"Authorization": f"Bearer {connected.api_key}", **kwargs.pop("headers", {})}
    url = f"{connected.system.url('scheduler')}{path}"
    response = httpx.request(method, url, headers=headers, timeout=120, **kwargs)
    expected = (expect,) if isinstance(expect, int) else expect
    assert response.status_code in expected, f"{method} {path}: {response.text[:500]}"
    return response.json() if response.content else None


def sandbox_call(connected: Connected, method: str, path: str, **kwargs: Any) -> Any:
    url = f"{connected.system.url('platform-sandbox')}{path}"
    response = httpx.request(method, url, timeout=120, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.text[:500]}"
    return response.json()


def phone(prefix: str, n: int) -> str:
    """An E.164 number of this run: +351 9, a 4-digit run prefix, a 5-digit contact number."""
    return f"+3519{prefix}{n:05d}"


def digits(number: str) -> str:
    return number.lstrip("+")


def run_prefix() -> str:
    return f"{random.SystemRandom().randrange(10_000):04d}"


@dataclass
class Audience:
    audience_id: str
    report: dict[str, Any]


def make_audience(connected: Connected, csv_text: str, *, fields: list[str]) -> Audience:
    body = {"name": f"customers {uuid.uuid4().hex[:6]}", "fields": fields}
    made = api(connected, "POST", "/v1/audiences", json=body, expect=201)
    report = api(
        connected,
        "POST",
        f"/v1/audiences/{made['audience_id']}/imports",
        content=csv_text.encode(),
        headers={"Content-Type": "text/csv"},
        expect=200,
    )
    return Audience(made["audience_id"], report)


def contacts_by_id(connected: Connected, audience_id: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = api(connected, "GET", f"/v1/audiences/{audience_id}/contacts", params=params)
        found |= {c["contact_id"]: c for c in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def recipients(connected: Connected, post_id: str) -> list[dict[str, Any]]:
    """Every recipient of the post through `GET /v1/posts/{id}/recipients`, page by page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 300} | ({"cursor": cursor} if cursor else {})
        page = api(connected, "GET", f"/v1/posts/{post_id}/recipients", params=params)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def broadcast(connected: Connected, audience_id: str, template: dict[str, Any], *, key: str) -> str:
    target = {
        "integration_id": connected.integrations["whatsapp"],
        "platform": "whatsapp",
        "options": {"platform": "whatsapp", "audience_id": audience_id, "template": template},
    }
    body: dict[str, object] = {"content": {}, "targets": [target]}
    made = api(connected, "POST", "/v1/posts", json=body, headers={"Idempotency-Key": key})
    post_id: str = made["post_id"]
    return post_id


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 2.0) -> Any:
    """`check()` until it returns something truthy; fails naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f} s (last: {found!r})")
        time.sleep(every_s)


def wait_finished(connected: Connected, post_id: str, timeout_s: float) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        post = post_view(connected, post_id)
        return post if post["status"] in TERMINAL else None

    done: dict[str, Any] = wait_for(f"post {post_id} finished", finished, timeout_s, every_s=5)
    return done


# ---------------------------------------------------------------- the sandbox's side


def demo_number(connected: Connected) -> dict[str, str]:
    demo: dict[str, str] = connected.sandbox("/_sandbox/accounts")["demo"]
    return demo


def accepted_messages(connected: Connected, phone_number_id: str) -> list[dict[str, Any]]:
    """Every `message_accepted` entry of the number on the sandbox's ledger."""
    query = {"platform": "whatsapp", "kind": "message_accepted", "account": phone_number_id}
    entries: list[dict[str, Any]] = connected.sandbox("/_sandbox/ledger", **query)["entries"]
    return entries


def route_webhooks(
    connected: Connected, url: str, *, duplicates: float = 0.0, reorder: bool = False
) -> None:
    body = {"url": url, "duplicate_probability": duplicates, "reorder": reorder}
    sandbox_call(connected, "PUT", "/_sandbox/webhooks/whatsapp", json=body)


def publisher_hook(connected: Connected) -> str:
    return f"{connected.system.url('publisher-whatsapp')}/webhooks/whatsapp"


@contextmanager
def webhooks_routed(
    connected: Connected, url: str, *, duplicates: float = 0.0, reorder: bool = False
) -> Iterator[None]:
    """The sandbox's WhatsApp webhooks go to `url` meanwhile; then back to the publisher."""
    route_webhooks(connected, url, duplicates=duplicates, reorder=reorder)
    try:
        yield
    finally:
        route_webhooks(connected, publisher_hook(connected))


@dataclass
class SandboxStatuses:
    """What the sandbox delivered about some messages: per status, the message ids whose webhook
    the receiver acknowledged (2xx), and what is still pending or was given up."""

    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pending: int = 0
    given_up: int = 0
    duplicates: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)  # failed: the error sent

    def counts(self) -> dict[str, int]:
        return {s: len(self.acknowledged.get(s, set())) for s in STATUSES}


def _statuses(delivery: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        status
        for entry in delivery["body"].get("entry", [])
        for change in entry.get("changes", [])
        for status in change.get("value", {}).get("statuses", [])
    ]


def sandbox_statuses(connected: Connected, message_ids: set[str]) -> SandboxStatuses:
    hooks = connected.sandbox("/_sandbox/webhooks")
    seen = SandboxStatuses()
    for delivery in hooks["pending"]:
        if any(s["id"] in message_ids for s in _statuses(delivery)):
            seen.pending += 1
    for delivery in hooks["delivered"]:
        ours = [s for s in _statuses(delivery) if s["id"] in message_ids]
        if not ours:
            continue
        seen.answers[delivery["status"] or 0] += 1
        seen.duplicates += delivery["duplicate_of"] is not None
        if delivery["delivered_at"] is None:
            seen.given_up += 1
            continue
        for status in ours:
            seen.acknowledged[status["status"]].add(status["id"])
            if status["status"] == "failed":
                seen.errors[status["id"]] = status["errors"][0]
    return seen


def herald_counts(post: dict[str, Any]) -> dict[str, int]:
    counts = post["recipients"]
    return {k: int(counts[k]) for k in STATUSES}


def by_state(post: dict[str, Any]) -> dict[str, int]:
    """The post's recipients by their furthest state, states with none left out."""
    return {state: int(n) for state, n in post["recipients"]["by_state"].items() if n}


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def publisher_metrics(connected: Connected) -> str:
    url = f"{connected.system.url('publisher-whatsapp')}/metrics"
    return httpx.get(url, timeout=30).text


# ---------------------------------------------------------------- 1. the 1,000-contact broadcast

INVALID_AT = (101, 317, 500, 733, 998)  # data rows (0-based) holding an invalid number
INVALID = ("12345", "+0123456789", "+1", "+35191abc", "351 91 000")
OPTED_OUT_AT = tuple(range(40, 1000, 96))  # 10 contacts opted out after the import
UNDELIVERABLE = {205: 131026, 411: 131026, 612: 131026, 877: 131026, 950: 131050}


def thousand_rows(prefix: str) -> tuple[str, dict[int, str]]:
    """The CSV (header + 1,000 rows) and the valid numbers by row."""
    lines = ["phone,name,opted_in,city"]
    valid: dict[int, str] = {}
    bad = iter(INVALID)
    for row in range(1000):
        if row in INVALID_AT:
            lines.append(f"{next(bad)},Broken Row{row},yes,Nowhere")
            continue
        valid[row] = phone(prefix, row)
        lines.append(f"{valid[row]},Name{row} Surname,yes,City{row}")
    return "\n".join(lines) + "\n", valid


def spring_template(name: str) -> dict[str, Any]:
    return {
        "name": name,
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


def body_parameters(entry: dict[str, Any]) -> list[str]:
    params = entry["request"]["params"]
    template = params["template"]
    template = json.loads(template) if isinstance(template, str) else template
    return [
        p["text"]
        for c in template.get("components", [])
        if c.get("type") == "body"
        for p in c.get("parameters", [])
    ]


@dataclass
class Broadcast:
    """The broadcast of test 1 as it was set up: its post and what each number should get."""

    post_id: str
    audience: Audience
    valid: dict[int, str]  # row -> number, the 995 imported
    opted_out: set[str]
    undeliverable: dict[str, str]  # number -> the code the sandbox fails it with

    @property
    def sendable(self) -> set[str]:
        return {n for n in self.valid.values() if n not in self.opted_out}


def start_broadcast(connected: Connected, phone_number: dict[str, str]) -> Broadcast:
    """A template with two body parameters and a quick reply registered at the sandbox, the
    audience imported, 10 contacts opted out, 5 numbers made undeliverable, then the post."""
    prefix, run = run_prefix(), uuid.uuid4().hex[:8]
    template_name = f"spring_{run}"
    template = {
        "waba_id": phone_number["waba_id"],
        "name": template_name,
        "category": "MARKETING",
        "body_params": 2,
        "buttons": [{"sub_type": "quick_reply"}],
    }
    sandbox_call(connected, "POST", "/_sandbox/whatsapp/templates", json=template)
    csv_text, valid = thousand_rows(prefix)
    audience = make_audience(connected, csv_text, fields=["city"])
    opted_out = {valid[row] for row in OPTED_OUT_AT}
    for number in sorted(opted_out):
        api(connected, "POST", "/v1/opt-outs", json={"phone": number}, expect=201)
    for row, code in UNDELIVERABLE.items():
        body = {"wa_id": digits(valid[row]), "code": code}
        sandbox_call(connected, "POST", "/_sandbox/whatsapp/recipients", json=body)
    undeliverable = {valid[row]: str(code) for row, code in UNDELIVERABLE.items()}
    post_id = broadcast(connected, audience.audience_id, spring_template(template_name), key=run)
    return Broadcast(post_id, audience, valid, opted_out, undeliverable)


def check_import(report: dict[str, Any]) -> None:
    """Every invalid number reported by its line (the header is line 1), with the reason."""
    assert (report["rows"], report["imported"], report["rejected_rows"]) == (1000, 995, 5)
    problems = {p["line"]: p for p in report["problems"]}
    assert set(problems) == {row + 2 for row in INVALID_AT}
    assert {p["code"] for p in problems.values()} == {"invalid_phone"}
    assert all("E.164" in p["message"] for p in problems.values())


def check_ledger(sent: Broadcast, ledger: list[dict[str, Any]]) -> None:
    """985 messages, each sendable number exactly once with its own parameters, none opted out."""
    sent_to = Counter(f"+{e['request']['to']}" for e in ledger)
    assert len(ledger) == 985
    assert set(sent_to) == sent.sendable
    assert set(sent_to.values()) == {1}
    assert not sent.opted_out & set(sent_to)
    by_number = {f"+{e['request']['to']}": e for e in ledger}
    for row, number in sent.valid.items():
        if number in sent.sendable:
            assert body_parameters(by_number[number]) == [f"Name{row}", f"City{row}"]


def check_recipients(
    connected: Connected, sent: Broadcast, message_of: dict[str, str], seen: SandboxStatuses
) -> list[dict[str, Any]]:
    """Per recipient: its own message, read, or failed with the code and the reason the
    platform's `failed` status gave; the flagged numbers marked in the audience (131026
    undeliverable, 131050 opted out) once the scheduler has heard of them."""
    contacts = contacts_by_id(connected, sent.audience.audience_id)
    listed = recipients(connected, sent.post_id)
    assert len(listed) == 985
    assert len({r["recipient_id"] for r in listed}) == 985
    for item in listed:
        number = contacts[item["contact_id"]]["phone"]
        assert item["to"] != number  # masked
        assert item["to"][-4:] == number[-4:]
        assert item["message_id"] == message_of[number]
        code = sent.undeliverable.get(number)
        if code is None:
            assert (item["state"], item["error_code"]) == ("read", None)
            continue
        error = seen.errors[item["message_id"]]
        assert (item["state"], item["error_code"]) == ("failed", code)
        assert str(error["code"]) == code
        assert error["title"] in item["error_message"]
        assert error["error_data"]["details"] in item["error_message"]

    def flagged() -> dict[str, str] | None:
        found = contacts_by_id(connected, sent.audience.audience_id).values()
        status_of = {c["phone"]: c["status"] for c in found}
        wanted = {
            n: "undeliverable" if c == "131026" else "opted_out"
            for n, c in sent.undeliverable.items()
        }
        ok = all(status_of[n] == s for n, s in wanted.items())
        return status_of if ok else None

    status_of = wait_for("the flagged contacts marked", flagged, timeout_s=60)
    assert {status_of[n] for n in sent.opted_out} == {"opted_out"}
    others = set(sent.valid.values()) - sent.opted_out - set(sent.undeliverable)
    assert {status_of[n] for n in others} == {"subscribed"}
    return [r for r in listed if r["state"] == "failed"]


def post_view(connected: Connected, post_id: str) -> dict[str, Any]:
    """`GET /v1/posts/{id}`, whose counts are computed from every recipient and fact: on
    FerretDB a read of whole collections, slow when the machine is busy (hence `api`'s 120 s)."""
    post: dict[str, Any] = api(connected, "GET", f"/v1/posts/{post_id}", expect=200)
    return post


def statuses_settled(
    connected: Connected,
    post_id: str,
    message_ids: set[str],
    expected: dict[str, int],
    metrics_before: str,
) -> tuple[dict[str, Any], SandboxStatuses]:
    """Waits until publisher-whatsapp has emitted as many statuses as `expected` adds up to,
    the sandbox has nothing left to deliver about these messages and Herald counts `expected`;
    then Herald's view, read after the last delivery, and the sandbox's. Progress is watched on
    the publisher's counter: the post's counts are computed on read from every recipient and
    fact, and the sandbox's outbox comes back whole, both too heavy to ask for every few seconds
    while the statuses flow (they would slow the very deliveries being waited for)."""
    name = "herald_whatsapp_statuses_total"

    def emitted() -> float:
        text = publisher_metrics(connected)
        return metric(text, name, duplicate="false") - metric(
            metrics_before, name, duplicate="false"
        )

    deadline = time.monotonic() + 900
    while emitted() < sum(expected.values()) and time.monotonic() < deadline:
        time.sleep(3)
    while time.monotonic() < deadline:
        seen = sandbox_statuses(connected, message_ids)
        if not seen.pending:
            post = post_view(connected, post_id)
            if herald_counts(post) == expected:
                return post, seen
        time.sleep(5)
    seen = sandbox_statuses(connected, message_ids)
    pytest.fail(
        f"statuses not settled: publisher-whatsapp emitted {emitted():.0f}, Herald counts "
        f"{herald_counts(post_view(connected, post_id))}, the sandbox acknowledged "
        f"{seen.counts()} and has {seen.pending} deliveries pending"
    )


@pytest.mark.timeout(1500)
def test_a_broadcast_to_1000_contacts_sends_985_once_and_counts_signed_statuses(
    connected: Connected,
) -> None:
    began = time.monotonic()
    number = demo_number(connected)
    metrics_before = publisher_metrics(connected)
    with webhooks_routed(connected, publisher_hook(connected), duplicates=0.25, reorder=True):
        sent = start_broadcast(connected, number)
        finished = wait_finished(connected, sent.post_id, timeout_s=300)
        sending_done = time.monotonic()
        ledger = [
            e
            for e in accepted_messages(connected, number["phone_number_id"])
            if f"+{e['request']['to']}" in sent.valid.values()
        ]
        message_ids = {e["object_id"] for e in ledger}
        ok, failed = 985 - len(sent.undeliverable), len(sent.undeliverable)
        expected = {"sent": ok, "delivered": ok, "read": ok, "failed": failed}
        post, seen = statuses_settled(
            connected, sent.post_id, message_ids, expected, metrics_before
        )
    statuses_done = time.monotonic()

    check_import(sent.audience.report)
    check_ledger(sent, ledger)
    assert finished["status"] == "published"
    [target] = [t for t in post["targets"] if t["role"] == "broadcast"]
    batches = [t for t in post["targets"] if t["role"] == "batch"]
    assert target["broadcast"] == {
        "audience_id": sent.audience.audience_id,
        "batches": 10,
        "excluded": {"opted_out": 10},
    }
    assert len(batches) == 10
    assert {b["state"] for b in batches} == {"published"}
    assert {b["broadcast_target_id"] for b in batches} == {target["target_id"]}
    # Statuses came through signed webhooks (each acknowledged: a refused signature is a 401),
    # some delivered twice and out of order, and Herald's counts equal the sandbox's own.
    assert seen.given_up == 0
    assert set(seen.answers) == {200}, seen.answers
    assert seen.duplicates > 0
    assert seen.counts() == expected
    assert herald_counts(post) == seen.counts()
    assert herald_counts(target) == seen.counts()
    assert post["recipients"]["recipients"] == 985
    assert by_state(post) == {"read": ok, "failed": failed}
    message_of = {f"+{e['request']['to']}": e["object_id"] for e in ledger}
    failures = check_recipients(connected, sent, message_of, seen)
    # The same statuses as a funnel on the analytics route (issue 15): rates between the steps.
    analytics = api(connected, "GET", f"/v1/posts/{sent.post_id}/analytics", expect=200)
    [funnel] = [t["deliveries"] for t in analytics["targets"] if t["deliveries"]]
    assert (funnel["sent"], funnel["delivered"], funnel["read"]) == (ok, ok, ok)
    assert funnel["rates"] == {"delivered": 1.0, "read": 1.0, "failed": round(failed / 985, 6)}
    assert sum(f["count"] for f in funnel["failures"]) == failed == funnel["failed"]
    # Every message WhatsApp sent is priced, once, in the template's category.
    assert sum(funnel["pricing"].values()) >= ok
    assert set(funnel["pricing"]) <= {"marketing", "utility", "authentication", "service"}

    api(connected, "DELETE", f"/v1/audiences/{sent.audience.audience_id}", expect=204)
    reasons = sorted({f"{r['error_code']}: {r['error_message']}" for r in failures})
    print(  # noqa: T201 - the figures issue 8 asks this test to show
        f"\n[whatsapp broadcast] 1,000 rows, 995 imported (invalid at lines "
        f"{sorted(p['line'] for p in sent.audience.report['problems'])}), 10 opted out: "
        f"ledger {len(ledger)} messages to {len({e['request']['to'] for e in ledger})} numbers; "
        f"sandbox acknowledged {seen.counts()} ({seen.duplicates} duplicate deliveries), "
        f"Herald counted {herald_counts(post)}; failed recipients' reasons {reasons}; "
        f"sent in {sending_done - began:.0f} s, statuses settled "
        f"{statuses_done - sending_done:.0f} s later, {time.monotonic() - began:.0f} s in all"
    )


# ---------------------------------------------------------------- 2. webhook security


@dataclass
class Captured:
    body: bytes
    headers: dict[str, str]

    def statuses(self) -> list[dict[str, Any]]:
        return _statuses({"body": json.loads(self.body)})


class _Capture(BaseHTTPRequestHandler):
    seen: list[Captured]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        self.server.seen.append(  # type: ignore[attr-defined]  # set on the server below
            Captured(body, {k.lower(): v for k, v in self.headers.items()})
        )
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@contextmanager
def capture_server() -> Iterator[tuple[str, list[Captured]]]:
    """A loopback webhook receiver that keeps every delivery's exact bytes and headers."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    seen: list[Captured] = []
    server.seen = seen  # type: ignore[attr-defined]  # read by the handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def meta_body(payload: dict[str, Any]) -> bytes:
    """Serialised as Meta does (non-ASCII and `/` escaped), to sign a payload of our own."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode()


def sign(body: bytes, secret: str = SANDBOX_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(connected: Connected, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST to the publisher's webhook as Meta would: the body, its type, the given signature."""
    sent = {"content-type": "application/json", "user-agent": "facebookexternalua"}
    sent |= {k: v for k, v in headers.items() if k == SIGNATURE}
    return httpx.post(publisher_hook(connected), content=body, headers=sent, timeout=30)


@dataclass
class Genuine:
    """A two-contact broadcast whose statuses the sandbox delivered to a capture server."""

    post_id: str
    message_of: dict[str, str]  # number -> message id
    deliveries: dict[tuple[str, str], Captured]  # (message id, status) -> the exact delivery


def capture_genuine(connected: Connected, phone_number_id: str) -> tuple[Genuine, str, str]:
    prefix, run = run_prefix(), uuid.uuid4().hex[:8]
    a, b = phone(prefix, 1), phone(prefix, 2)
    rows = f"phone,name,opted_in\n{a},Alice Doe,yes\n{b},Bruno Roe,yes\n"
    audience = make_audience(connected, rows, fields=[])
    hello = {"name": "hello_world", "language": "en_US"}
    with capture_server() as (capture_url, captured), webhooks_routed(connected, capture_url):
        post_id = broadcast(connected, audience.audience_id, hello, key=f"hooks-{run}")
        assert wait_finished(connected, post_id, timeout_s=180)["status"] == "published"
        message_of = {
            f"+{e['request']['to']}": e["object_id"]
            for e in accepted_messages(connected, phone_number_id)
            if f"+{e['request']['to']}" in (a, b)
        }
        assert set(message_of) == {a, b}
        wanted = {(m, s) for m in message_of.values() for s in ("sent", "delivered", "read")}

        def all_captured() -> dict[tuple[str, str], Captured] | None:
            found = {(s["id"], s["status"]): c for c in list(captured) for s in c.statuses()}
            return found if wanted <= set(found) else None

        deliveries = wait_for("the sandbox's deliveries", all_captured, timeout_s=60, every_s=0.5)
    return Genuine(post_id, message_of, deliveries), a, b


def forge(connected: Connected, genuine: Captured) -> dict[str, int]:
    """Altered or forged copies of a genuine delivery, each sent once; the answers."""
    signature = genuine.headers["x-hub-signature-256"]
    altered = json.loads(genuine.body)
    altered["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "read"
    stranger = json.loads(genuine.body)
    stranger["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999000111222333"
    unknown_number = meta_body(stranger)
    attempts = {
        "wrong secret": (genuine.body, sign(genuine.body, "not-the-app-secret")),
        "no signature header": (genuine.body, None),
        "not sha256": (genuine.body, "sha1=" + signature.partition("=")[2]),
        "body re-serialised": (json.dumps(json.loads(genuine.body)).encode(), signature),
        "body altered (delivered -> read)": (meta_body(altered), signature),
        "unknown phone number id, signed": (unknown_number, sign(unknown_number)),
    }
    answers: dict[str, int] = {}
    for why, (body, signed) in attempts.items():
        response = deliver(connected, body, {} if signed is None else {SIGNATURE: signed})
        assert response.json() == {"error": "rejected"}  # no detail given away
        answers[why] = response.status_code
    return answers


def handshake(connected: Connected) -> tuple[int, str, int]:
    """Meta's subscription handshake, with Herald's verify token and with a guess."""
    token = StackSecrets.load_or_create(connected.system.cfg.run_dir).whatsapp_verify_token
    hook = publisher_hook(connected)
    challenge = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    good = httpx.get(hook, params=challenge | {"hub.verify_token": token}, timeout=30)
    bad = httpx.get(hook, params=challenge | {"hub.verify_token": "guess"}, timeout=30)
    return good.status_code, good.text, bad.status_code


@pytest.mark.timeout(300)
def test_forged_webhooks_are_refused_and_a_replayed_delivery_counts_once(
    connected: Connected,
) -> None:
    began = time.monotonic()
    number = demo_number(connected)
    genuine, a, b = capture_genuine(connected, number["phone_number_id"])
    a_sent = genuine.deliveries[(genuine.message_of[a], "sent")]
    a_delivered = genuine.deliveries[(genuine.message_of[a], "delivered")]
    b_sent = genuine.deliveries[(genuine.message_of[b], "sent")]
    b_delivered = genuine.deliveries[(genuine.message_of[b], "delivered")]
    assert a_delivered.headers[SIGNATURE] == sign(a_delivered.body)  # the sandbox signs as Meta
    before = publisher_metrics(connected)

    answers = forge(connected, a_delivered)
    assert answers == {
        "wrong secret": 401,
        "no signature header": 401,
        "not sha256": 401,
        "body re-serialised": 401,
        "body altered (delivered -> read)": 401,
        "unknown phone number id, signed": 403,
    }
    assert handshake(connected) == (200, "1158201444", 403)

    # Genuine: each once, then A's delivered replayed three times, then B's delivered last. The
    # statuses of one batch go to one partition of message.status, which the scheduler reads in
    # order: once B's delivered is counted, whatever came before it has been counted too.
    handled = [deliver(connected, c.body, c.headers) for c in (a_sent, b_sent)]
    handled += [deliver(connected, a_delivered.body, a_delivered.headers) for _ in range(4)]
    handled.append(deliver(connected, b_delivered.body, b_delivered.headers))
    assert [r.status_code for r in handled] == [200] * 7
    replies = [r.json()["handled"] for r in handled]
    assert replies == [
        {"sent": 1},
        {"sent": 1},
        {"delivered": 1},
        {"duplicate": 1},
        {"duplicate": 1},
        {"duplicate": 1},
        {"delivered": 1},
    ]
    expected = {"sent": 2, "delivered": 2, "read": 0, "failed": 0}

    def counted() -> dict[str, Any] | None:
        post = post_view(connected, genuine.post_id)
        return post if herald_counts(post) == expected else None

    post: dict[str, Any] = wait_for("the genuine statuses counted", counted, 60, every_s=1)
    assert by_state(post) == {"delivered": 2}
    states = {r["message_id"]: r["state"] for r in recipients(connected, genuine.post_id)}
    assert states == {genuine.message_of[a]: "delivered", genuine.message_of[b]: "delivered"}

    after = publisher_metrics(connected)

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    rejected = "herald_webhook_rejected_total"
    assert delta(rejected, platform="whatsapp", reason="bad_signature") == 4
    assert delta(rejected, platform="whatsapp", reason="missing_signature") == 1
    assert delta(rejected, platform="whatsapp", reason="unknown_number") == 1
    assert delta(rejected, platform="whatsapp", reason="handshake") == 1
    statuses = "herald_whatsapp_statuses_total"
    assert delta(statuses, status="delivered", duplicate="true") == 3
    assert delta(statuses, status="delivered", duplicate="false") == 2
    assert delta(statuses, status="sent", duplicate="false") == 2
    assert delta(statuses, status="read", duplicate="false") == 0
    print(  # noqa: T201 - what issue 8 asks this test to show
        f"\n[whatsapp webhooks] refused {answers}; genuine answered {replies}; "
        f"Herald counted {herald_counts(post)}; {time.monotonic() - began:.0f} s"
    )

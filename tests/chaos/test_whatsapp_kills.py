"""SIGKILL publisher-whatsapp again and again during a broadcast (2,000 recipients in `make
test`, 5,000 in `make chaos`), restarting it each time. No recipient may be lost, and a number may
get the message twice only because a kill interrupted that very send: at most one duplicate per
kill (issue 8). The fleet run (`test_fleet.py`) kills this publisher among the others with its
default sends in flight; this run holds it to one in flight, where the bound is exact.

ADR 0007: a send keeps its place among the batch's `send.max_in_flight` concurrent sends until
its message is in the message log, so a crash re-sends at most `max_in_flight` messages, and with
one in flight at most one per crash, which is the issue's bound. publisher-whatsapp runs here
with `max_in_flight = 1`, and with a 20 s ledger lease instead of 300 s
(`HERALD_CHAOS_WA_LEASE_S`): the batch a kill interrupts keeps its dead owner's lease until it
expires, and is then resumed from the message log (a batch of 100 holds its lease for seconds,
so 20 s is still far above any handling); the lease decides when, not whether, it resumes.
Both are restored afterwards, as is the sandbox's webhook route: the sandbox sends no status
webhooks meanwhile (three per message, delivered one at a time, would leave the rest of
the session a backlog of 15,000 deliveries; statuses are the e2e broadcast test's subject).

The kills fall at random points of the stream of accepted messages (thresholds drawn from the
seed, `HERALD_CHAOS_WA_SEED`), each after the restarted publisher has sent again. The sandbox's
ledger numbers every accepted message, so a duplicate is checked against the kills: its first
copy must be the last message the sandbox accepted before a kill, and its second after it.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.conftest import Connected

pytestmark = pytest.mark.e2e

RECIPIENTS = int(os.environ.get("HERALD_CHAOS_WA_RECIPIENTS", "2000"))
KILLS = int(os.environ.get("HERALD_CHAOS_WA_KILLS", "5"))
SEED = int(os.environ.get("HERALD_CHAOS_WA_SEED", "8"))
LEASE_S = int(os.environ.get("HERALD_CHAOS_WA_LEASE_S", "20"))  # the service's default: 300
SERVICE = "publisher-whatsapp"
CHAOS_ENV = {
    "HERALD_PUBLISHER_WHATSAPP_SEND__MAX_IN_FLIGHT": "1",
    "HERALD_PUBLISHER_WHATSAPP_LEASE_S": str(LEASE_S),
}
FINAL = ("published", "partially_published", "failed", "cancelled")
# Expansion, sending at one message in flight, a lease per kill, reading 5,000 recipients back.
TIMEOUT_S = 900 + RECIPIENTS // 10 + 2 * LEASE_S * KILLS


def _call(connected: Connected, service: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {connected.api_key}"} if service == "scheduler" else {}
    headers |= kwargs.pop("headers", {})
    url = f"{connected.system.url(service)}{path}"
    response = httpx.request(method, url, headers=headers, timeout=120, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.text[:500]}"
    return response.json() if response.content else None


@contextmanager
def chaos_publisher(connected: Connected) -> Iterator[None]:
    """publisher-whatsapp restarted with `CHAOS_ENV`, and the sandbox sending no WhatsApp
    webhooks; both as they were afterwards."""
    routes = _call(connected, "platform-sandbox", "GET", "/_sandbox/webhooks")["routes"]
    route = routes["whatsapp"]
    _call(connected, "platform-sandbox", "PUT", "/_sandbox/webhooks/whatsapp", json={"url": None})
    connected.system.stop(SERVICE)
    start(connected)
    try:
        yield
    finally:
        if SERVICE in connected.system.processes:
            connected.system.stop(SERVICE)
        connected.start(SERVICE)
        _call(connected, "platform-sandbox", "PUT", "/_sandbox/webhooks/whatsapp", json=route)


def start(connected: Connected) -> None:
    connected.system.start(SERVICE, extra_env={**connected.extra_env.get(SERVICE, {}), **CHAOS_ENV})


@dataclass(frozen=True)
class Accepted:
    seq: int
    at: float
    to: str
    message_id: str


@dataclass(frozen=True)
class Kill:
    at: float
    last_seq: int  # the newest message of ours the sandbox had accepted when it fell
    accepted: int  # how many of ours by then


class Ledger:
    """The number's accepted messages to this broadcast's numbers, read incrementally."""

    def __init__(self, connected: Connected, phone_number_id: str, numbers: set[str]) -> None:
        self.connected = connected
        self.phone_number_id = phone_number_id
        self.numbers = numbers
        self.ours: list[Accepted] = []
        self.since = 0

    def read(self) -> int:
        query = {"platform": "whatsapp", "kind": "message_accepted"}
        query |= {"account": self.phone_number_id, "since_seq": str(self.since)}
        for entry in self.connected.sandbox("/_sandbox/ledger", **query)["entries"]:
            self.since = max(self.since, int(entry["seq"]))
            to = f"+{entry['request']['to']}"
            if to in self.numbers:
                self.ours.append(
                    Accepted(int(entry["seq"]), float(entry["at_unix"]), to, entry["object_id"])
                )
        return len(self.ours)

    def wait_for(self, count: int, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while self.read() < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.ours)} of {count} messages accepted within {timeout_s} s")
            time.sleep(0.1)
        return len(self.ours)


def import_audience(connected: Connected, numbers: list[str]) -> str:
    made = _call(
        connected,
        "scheduler",
        "POST",
        "/v1/audiences",
        json={"name": f"chaos {uuid.uuid4().hex[:6]}", "fields": []},
    )
    rows = "phone,name,opted_in\n" + "".join(f"{n},Person {i},yes\n" for i, n in enumerate(numbers))
    report = _call(
        connected,
        "scheduler",
        "POST",
        f"/v1/audiences/{made['audience_id']}/imports",
        content=rows.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert (report["imported"], report["rejected_rows"]) == (len(numbers), 0), report
    audience_id: str = made["audience_id"]
    return audience_id


def recipients_of(connected: Connected, post_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = _call(
            connected, "scheduler", "GET", f"/v1/posts/{post_id}/recipients", params=params
        )
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def attribute(duplicates: dict[str, list[Accepted]], kills: list[Kill]) -> dict[str, Kill | None]:
    """For each duplicated number, the kill that interrupted its first send: the first copy is
    the last message the sandbox accepted before that kill, and the next copy came after it."""
    found: dict[str, Kill | None] = {}
    for number, copies in duplicates.items():
        first, again = copies[0], copies[1]
        found[number] = next(
            (k for k in kills if k.last_seq == first.seq and first.seq < again.seq), None
        )
    return found


def broadcast(connected: Connected, audience_id: str) -> str:
    """`hello_world` to the audience: the post's id."""
    target = {
        "integration_id": connected.integrations["whatsapp"],
        "platform": "whatsapp",
        "options": {
            "platform": "whatsapp",
            "audience_id": audience_id,
            "template": {"name": "hello_world", "language": "en_US"},
        },
    }
    body = {"content": {}, "targets": [target]}
    key = {"Idempotency-Key": f"chaos-wa-{uuid.uuid4().hex}"}
    made = _call(connected, "scheduler", "POST", "/v1/posts", json=body, headers=key)
    post_id: str = made["post_id"]
    return post_id


def kill_at(connected: Connected, ledger: Ledger, thresholds: list[int]) -> list[Kill]:
    """SIGKILL the publisher when this many messages were accepted (and only once the restarted
    one sends again), then start it again."""
    kills = []
    for threshold in thresholds:
        ledger.wait_for(max(threshold, len(ledger.ours) + 1), timeout_s=600)
        connected.system.kill(SERVICE)
        killed_at = time.time()
        time.sleep(0.5)  # a request the kill cut off may still land at the sandbox
        ledger.read()
        kills.append(Kill(killed_at, ledger.ours[-1].seq, len(ledger.ours)))
        start(connected)
    return kills


def finished(
    connected: Connected, post_id: str, ledger: Ledger, timeout_s: float
) -> dict[str, Any]:
    """The post once final. Its status is read only once every number has a message on the
    ledger (or the time is up): reading a 5,000-recipient post computes its counts from every
    recipient and fact, too heavy to repeat every few seconds while the last batches send."""
    deadline = time.monotonic() + timeout_s
    while len({a.to for a in ledger.ours}) < RECIPIENTS and time.monotonic() < deadline:
        time.sleep(1)
        ledger.read()
    while True:
        post: dict[str, Any] = _call(connected, "scheduler", "GET", f"/v1/posts/{post_id}")
        if post["status"] in FINAL:
            return post
        if time.monotonic() > deadline:
            pytest.fail(f"the broadcast did not finish: {post['recipients']}")
        time.sleep(5)


def check_herald(connected: Connected, post: dict[str, Any], ledger: Ledger) -> None:
    """Herald's view: published, every recipient accepted, each with a message the sandbox
    accepted for that recipient's number."""
    assert post["status"] == "published"
    counts = post["recipients"]
    assert counts["recipients"] == RECIPIENTS
    assert {s: n for s, n in counts["by_state"].items() if n} == {"accepted": RECIPIENTS}
    listed = recipients_of(connected, post["post_id"])
    assert len(listed) == RECIPIENTS
    assert {r["state"] for r in listed} == {"accepted"}
    number_of = {a.message_id: a.to for a in ledger.ours}
    assert len({r["message_id"] for r in listed}) == RECIPIENTS
    assert all(number_of[r["message_id"]][-4:] == r["to"][-4:] for r in listed)


@pytest.mark.timeout(TIMEOUT_S)
def test_publisher_whatsapp_killed_during_a_broadcast_loses_no_recipient(
    connected: Connected,
) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    run = f"{random.SystemRandom().randrange(10_000):04d}"
    numbers = [f"+4479{run}{i:05d}" for i in range(RECIPIENTS)]
    phone_number_id = connected.sandbox("/_sandbox/accounts")["demo"]["phone_number_id"]
    ledger = Ledger(connected, phone_number_id, set(numbers))
    thresholds = sorted(int(rng.uniform(0.05, 0.85) * RECIPIENTS) for _ in range(KILLS))

    with chaos_publisher(connected):
        audience_id = import_audience(connected, numbers)
        post_id = broadcast(connected, audience_id)
        kills = kill_at(connected, ledger, thresholds)
        kills_done = time.monotonic()
        post = finished(connected, post_id, ledger, timeout_s=900)
        ledger.read()
    done = time.monotonic()

    copies: dict[str, list[Accepted]] = defaultdict(list)
    for accepted in ledger.ours:
        copies[accepted.to].append(accepted)
    lost = [n for n in numbers if n not in copies]
    duplicates = {n: c for n, c in copies.items() if len(c) > 1}
    blamed = attribute(duplicates, kills)
    per_kill = Counter(k.last_seq for k in blamed.values() if k is not None)
    print(
        f"\n[chaos whatsapp] {RECIPIENTS} recipients, {len(kills)} SIGKILLs of {SERVICE} (after "
        f"{[k.accepted for k in kills]} messages; seed {SEED}): post {post['status']}, "
        f"{len(ledger.ours)} messages accepted for {len(copies)} numbers, lost {len(lost)}, "
        f"duplicates {len(duplicates)} (kills that interrupted a send: {len(per_kill)}); "
        f"kills done after {kills_done - began:.0f} s, finished after {done - began:.0f} s, "
        f"{time.monotonic() - began:.0f} s in all"
    )
    for number, kill in blamed.items():
        first = duplicates[number][0]
        when = "no kill" if kill is None else f"{(kill.at - first.at) * 1000:.0f} ms before a kill"
        print(f"  duplicate {number[:-4]}****: first copy (seq {first.seq}) accepted {when}")

    assert len(kills) == KILLS
    assert all(k.accepted < RECIPIENTS for k in kills)  # each fell during the broadcast
    assert lost == []
    assert set(copies) == set(numbers)
    assert all(kill is not None for kill in blamed.values()), blamed
    assert all(n == 1 for n in per_kill.values())  # at most one per kill
    assert len(duplicates) <= len(kills)
    check_herald(connected, post, ledger)
    # 5,000 contacts fewer for FerretDB to read through in the rest of the session.
    _call(connected, "scheduler", "DELETE", f"/v1/audiences/{audience_id}")

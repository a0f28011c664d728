"""Fleet chaos: a mixed load over all four platforms while, at seeded times, any service is
SIGKILLed (one or several at once), the Kafka broker restarts, PostgreSQL restarts, FerretDB is
SIGKILLed, and the sandbox answers with 5xx, hangs, accepted-then-failed calls and throttling.
Then `checker.py` reads the submissions, the sandbox's ledger and Herald's final states and
gives a Jepsen-style verdict; then every consumer group goes back to offset 0 and reads
everything again, and the platforms must see no new side effect.

Sizes: `make test` runs about 1,000 items with 5 kill steps and one restart of each of Kafka,
PostgreSQL and FerretDB (every kind of fault); `make chaos` runs 10,000 items and 20 kill steps
(`HERALD_FLEET_ITEMS`, `HERALD_FLEET_KILLS`, `HERALD_FLEET_INFRA_RESTARTS`, `HERALD_FLEET_SEED`).

What the run allows: a Facebook duplicate only where a kill of publisher-facebook fell inside a
platform call (after Facebook made the post, before the ledger recorded it; Facebook has no
idempotency key and the Page's recent posts are all there is to reconcile against); a WhatsApp
duplicate only where a kill of publisher-whatsapp fell inside a send (ADR 0007: one in flight
per send slot, no idempotency on the Cloud API). The checker attributes every duplicate to its
kill or fails the run.

The publishers' leases are 20 s here (300 s by default, 60 s in the rest of the e2e session):
a killed publisher's lease decides when the target it held resumes, and the test media take
well under a second. WhatsApp status webhooks are off during the run (three a message would
queue behind the run; statuses are the broadcast e2e test's subject).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.chaos import replay
from tests.chaos.checker import Fault, Final, Outcome, Visible, check
from tests.chaos.fleet import PUBLISHERS, FaultStep, Post, plan_faults, plan_load, sandbox_faults
from tests.conftest import Connected, free_offset, running_system

from herald.testkit.servers import free_port
from herald_localstack import ferretdb, kafka, postgres
from herald_localstack import stack as stack_module
from herald_localstack.config import StackConfig

pytestmark = pytest.mark.e2e

ITEMS = int(os.environ.get("HERALD_FLEET_ITEMS", "1000"))
KILLS = int(os.environ.get("HERALD_FLEET_KILLS", "5"))
INFRA_RESTARTS = int(os.environ.get("HERALD_FLEET_INFRA_RESTARTS", "1"))
SEED = int(os.environ.get("HERALD_FLEET_SEED", "20"))
LOAD_S = float(os.environ.get("HERALD_FLEET_LOAD_S", str(max(60, ITEMS // 12))))
LEASE_S = "20"
TIMEOUT_S = int(1200 + ITEMS * 0.3)
TERMINAL = {"published": "published", "failed": "failed", "cancelled": "failed"}
FINAL_POSTS = ("published", "failed", "partially_published", "cancelled")
REPORTS = Path(__file__).parents[2] / ".run" / "test-reports"
ACCEPTED = frozenset({"accepted", "sent", "delivered", "read"})


def _fleet_env(connected: Connected) -> dict[str, dict[str, str]]:
    env = {name: dict(values) for name, values in connected.extra_env.items()}
    for publisher in PUBLISHERS:
        key = f"HERALD_{publisher.upper().replace('-', '_')}_LEASE_S"
        env.setdefault(publisher, {})[key] = LEASE_S
    return env


class Fleet:
    """The running system as the run sees it: submit, break, read back."""

    def __init__(self, connected: Connected) -> None:
        self.connected = connected
        self.env = _fleet_env(connected)
        self.infra = connected.system.cfg
        self.faults: list[Fault] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()

    @property
    def sandbox(self) -> str:
        return self.connected.system.url("platform-sandbox")

    def start(self, name: str) -> None:
        self.connected.system.start(name, timeout_s=180, extra_env=self.env.get(name))

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The scheduler's API, tried again while a fault makes it unreachable or unavailable
        (what a client does; the idempotency key makes a retried submission safe)."""
        url = f"{self.connected.system.url('scheduler')}{path}"
        headers = {"Authorization": f"Bearer {self.connected.api_key}"}
        headers |= kwargs.pop("headers", {})
        deadline = time.monotonic() + 240
        while True:
            try:
                response = httpx.request(method, url, headers=headers, timeout=60, **kwargs)
                if response.status_code < 300:
                    return response.json() if response.content else None
                if response.status_code < 500 and response.status_code != 429:
                    pytest.fail(f"{method} {path}: {response.status_code} {response.text[:400]}")
                problem = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                problem = repr(exc)
            if time.monotonic() > deadline:
                pytest.fail(f"{method} {path} still failing after 240 s: {problem}")
            time.sleep(0.5)

    def admin(self, method: str, path: str, body: object = None) -> Any:
        response = httpx.request(method, f"{self.sandbox}/_sandbox{path}", json=body, timeout=60)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    # -- the load ------------------------------------------------------------------------------

    def prepare(self, post: Post) -> Post:
        """A broadcast's audience imported and named in its target."""
        if not post.audience:
            return post
        made = self.call("POST", "/v1/audiences", json={"name": f"fleet {post.marker}"})
        rows = "phone,name,opted_in\n" + "".join(
            f"{n},P{i},yes\n" for i, n in enumerate(post.audience)
        )
        report = self.call(
            "POST",
            f"/v1/audiences/{made['audience_id']}/imports",
            content=rows.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert report["imported"] == len(post.audience), report
        post.body["targets"][0]["options"]["audience_id"] = made["audience_id"]
        return post

    def submit(self, post: Post) -> str:
        made = self.call(
            "POST", "/v1/posts", json=post.body, headers={"Idempotency-Key": f"fleet-{post.marker}"}
        )
        post_id: str = made["post_id"]
        return post_id

    def load(self, posts: list[Post], began: float) -> dict[str, str]:
        """Each post submitted at its place in the load window, four at a time."""
        spacing = LOAD_S / max(len(posts), 1)

        def one(numbered: tuple[int, Post]) -> tuple[str, str]:
            n, post = numbered
            time.sleep(max(0.0, began + n * spacing - time.monotonic()))
            return post.marker, self.submit(post)

        with ThreadPoolExecutor(max_workers=4) as pool:
            return dict(pool.map(one, enumerate(posts)))

    # -- the faults ----------------------------------------------------------------------------

    def record(self, kind: str, target: str) -> None:
        with self.lock:
            self.faults.append(Fault(kind, target, time.time()))

    def inject(self, step: FaultStep, rng: random.Random) -> None:
        if step.kind == "kill":
            for name in step.targets:
                self.connected.system.kill(name)
                self.record("kill", name)
            time.sleep(rng.uniform(0.2, 2.0))
            for name in step.targets:
                self.start(name)
        elif step.kind == "kafka_restart":
            self.record("kafka_restart", "kafka")
            kafka.managed(self.infra).stop()
            kafka.start(self.infra)
        elif step.targets == ("postgres",):
            self.record("db_restart", "postgres")
            postgres.managed(self.infra).stop()
            postgres.start(self.infra)
        else:
            pid = ferretdb.managed(self.infra).pid()
            assert pid is not None, "FerretDB is not running"
            self.record("db_restart", "ferretdb")
            os.killpg(pid, signal.SIGKILL)
            while ferretdb.managed(self.infra).pid() is not None:
                time.sleep(0.05)
            ferretdb.start(self.infra)

    def chaos(self, steps: list[FaultStep], began: float, errors: list[BaseException]) -> None:
        rng = random.Random(SEED)
        try:
            for step in steps:
                time.sleep(max(0.0, began + step.at_s - time.monotonic()))
                self.inject(step, rng)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)

    @contextlib.contextmanager
    def platform_faults(self) -> Iterator[None]:
        ids = []
        for rule in sandbox_faults():
            ids.append(self.admin("POST", "/faults", rule)["id"])
            action = rule.get("action", "error")
            self.record("sandbox", f"{rule['platform']}:{action}")
        try:
            yield
        finally:
            for fault_id in ids:  # a counted rule is gone once used up
                httpx.delete(f"{self.sandbox}/_sandbox/faults/{fault_id}", timeout=60)

    @contextlib.contextmanager
    def quiet_whatsapp_webhooks(self) -> Iterator[None]:
        route = self.admin("GET", "/webhooks")["routes"]["whatsapp"]
        self.admin("PUT", "/webhooks/whatsapp", {"url": None})
        try:
            yield
        finally:
            self.admin("PUT", "/webhooks/whatsapp", route)

    # -- reading back --------------------------------------------------------------------------

    def wait_final(self, post_ids: dict[str, str], timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        pending = dict(post_ids)
        views: dict[str, Any] = {}
        while pending and time.monotonic() < deadline:
            for marker, post_id in list(pending.items()):
                view = self.call("GET", f"/v1/posts/{post_id}")
                views[marker] = view
                if view["status"] in FINAL_POSTS:
                    del pending[marker]
            time.sleep(1.0)
        for marker, post_id in pending.items():
            views[marker] = self.call("GET", f"/v1/posts/{post_id}")
        return views

    def recipients(self, post_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
            page = self.call("GET", f"/v1/posts/{post_id}/recipients", params=params)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def finals(
        self, posts: list[Post], post_ids: dict[str, str], views: dict[str, Any]
    ) -> list[Final]:
        finals: list[Final] = []
        for post in posts:
            if post.marker not in post_ids:
                continue
            if post.platform != "whatsapp":
                state = str(views[post.marker]["targets"][0]["state"])
                outcome: Outcome = TERMINAL.get(state, "pending")  # type: ignore[assignment]
                finals.append(Final(post.items[0].key, outcome, state))
                continue
            by_suffix = {item.key[-4:]: item.key for item in post.items}
            for row in self.recipients(post_ids[post.marker]):
                number = by_suffix[str(row["to"])[-4:]]
                state = str(row["state"])
                if state in ACCEPTED or row.get("message_id"):
                    outcome = "published"
                elif state == "pending":
                    outcome = "pending"
                else:
                    outcome = "failed"
                finals.append(Final(number, outcome, state))
        return finals

    def ledger(self, since_seq: int) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.admin("GET", f"/ledger?since_seq={since_seq}")[
            "entries"
        ]
        return entries

    def visible(self, since_seq: int) -> list[Visible]:
        seen = []
        for entry in self.ledger(since_seq):
            platform = str(entry["platform"])
            if platform == "whatsapp":
                if entry["kind"] == "message_accepted":
                    seen.append(
                        Visible(f"+{entry['request']['to']}", platform, float(entry["at_unix"]))
                    )
            elif entry.get("marker"):
                seen.append(
                    Visible(f"{platform}:{entry['marker']}", platform, float(entry["at_unix"]))
                )
        return seen

    def last_seq(self) -> int:
        entries = self.ledger(0)
        return max((int(e["seq"]) for e in entries), default=0)

    # -- replay --------------------------------------------------------------------------------

    def replay(self) -> tuple[int, int, dict[str, int]]:
        """(messages read again, new platform side effects, lag left) after every group of this
        namespace went back to offset 0 and the services read it all again."""
        cfg = self.connected.system.cfg
        names = asyncio.run(replay.groups(cfg.kafka_bootstrap, cfg.topic_prefix))
        before = self.last_seq()
        running = [n for n in self.connected.system.processes if n != "platform-sandbox"]
        with ThreadPoolExecutor(max_workers=len(running)) as pool:  # leaving their groups
            list(pool.map(self.connected.system.stop, running))
        again = asyncio.run(replay.rewind(cfg.kafka_bootstrap, names))
        with ThreadPoolExecutor(max_workers=len(running)) as pool:
            list(pool.map(self.start, running))
        behind = replay.wait_drained(cfg.kafka_bootstrap, names, timeout_s=600)
        time.sleep(5)  # a side effect a replayed message caused lands within this
        return again, len(self.ledger(before)), behind


@pytest.fixture(scope="module")
def fleet_system() -> Iterator[Connected]:
    """A whole Herald on infrastructure of its own: Kafka, PostgreSQL and FerretDB that this
    run restarts and kills without touching the session's shared stack (other tests, other
    sessions), and a broker holding only this run's topics (a restart loads those alone)."""
    base = StackConfig.from_env()
    run_dir = base.run_dir / f"fleet-{uuid.uuid4().hex[:8]}"  # PostgreSQL's user must reach it
    cfg = dataclasses.replace(
        base,
        run_dir=run_dir,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        ferretdb_port=free_port(),
        ferretdb_debug_port=free_port(),
        postgres_port=free_port(),
        service_port_offset=0,
        namespace="",
    )
    cfg = dataclasses.replace(cfg, service_port_offset=free_offset(cfg))
    # The test's own Kafka clients (the broker's readiness check during a restart) would log
    # every refused connection.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        with stack_module.shared_infra(cfg), running_system(cfg) as system:
            yield system
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.mark.timeout(TIMEOUT_S)
def test_fleet_survives_every_fault_with_nothing_lost_or_doubled(fleet_system: Connected) -> None:
    connected = fleet_system
    fleet = Fleet(connected)
    run = f"{random.SystemRandom().randrange(10_000):04d}"
    posts = plan_load(ITEMS, SEED, run, fleet.sandbox, connected.integrations)
    steps = plan_faults(KILLS, INFRA_RESTARTS, SEED, window_s=LOAD_S)
    items = [item for post in posts for item in post.items]
    since = fleet.last_seq()
    began_wall = time.time()
    errors: list[BaseException] = []
    for publisher in PUBLISHERS:  # with the fleet's leases
        connected.system.stop(publisher)
        fleet.start(publisher)

    with fleet.quiet_whatsapp_webhooks():
        posts = [fleet.prepare(p) for p in posts]
        with fleet.platform_faults():
            began = time.monotonic()
            breaker = threading.Thread(target=fleet.chaos, args=(steps, began, errors), daemon=True)
            breaker.start()
            post_ids = fleet.load(posts, began)
            breaker.join()
            loaded = time.monotonic() - began
        views = fleet.wait_final(post_ids, timeout_s=900)
        finished = time.monotonic() - began
        finals = fleet.finals(posts, post_ids, views)
    if errors:
        raise errors[0]

    visible = fleet.visible(since)
    verdict = check(
        items, finals, visible, fleet.faults, may_duplicate=frozenset({"facebook", "whatsapp"})
    )
    again, replayed_effects, behind = fleet.replay()

    kills = sum(1 for f in fleet.faults if f.kind == "kill")
    print(
        f"\n[fleet chaos] seed {SEED}, {len(posts)} posts, {len(items)} items, "
        f"{len(steps)} fault steps ({kills} kills), load {loaded:.0f} s, all final after "
        f"{finished:.0f} s, {time.time() - began_wall:.0f} s with the replay\n"
        f"{verdict.report()}\n"
        f"replay from offset 0: {again} messages read again, {replayed_effects} new platform "
        f"side effects, lag left {sum(behind.values())}"
    )
    summary = " ".join(f"{k}={int(v)}" for k, v in verdict.summary().items())
    result = f"result: {summary} replay_side_effects={replayed_effects} seconds={finished:.0f}"
    print(result)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"fleet-{len(items)}-seed{SEED}.txt").write_text(
        f"{time.strftime('%Y-%m-%d %H:%M:%S')} load average {os.getloadavg()}\n"
        f"{verdict.report()}\nreplay: {again} read again, {replayed_effects} side effects\n"
        f"{result}\n"
    )
    if not verdict.valid or any(behind.values()) or replayed_effects:
        _keep_logs(connected, REPORTS / f"fleet-{len(items)}-seed{SEED}-{run}")
    assert verdict.valid, verdict.report()
    assert not any(behind.values()), behind
    assert replayed_effects == 0


def _keep_logs(connected: Connected, where: Path) -> None:
    """A failed run's service logs, kept (its run directory goes with its stack): what each
    process said about the items the checker names."""
    logs = connected.system.cfg.run_dir / "system"
    shutil.copytree(logs, where, dirs_exist_ok=True)
    print(f"[fleet chaos] the services' logs of this run are kept in {where}")

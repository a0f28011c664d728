"""auth-service's and the publishers' operations for bench_store.py: a publisher's token read
and an API key's introspection; the publication ledger; WhatsApp's message log (sending, status
webhooks, resuming a batch); TikTok's webhooks (hot); and for contrast the refresh and TikTok
post-id sweeps.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase
from store_workload import (
    BIG,
    DAY,
    NOW,
    Scenario,
    Spread,
    Took,
    ago,
    check,
    clone,
    integration_id,
    timed,
)

from auth_service.adapters.mongo import MongoApiKeys
from auth_service.adapters.mongo import MongoIntegrations as AuthIntegrations
from auth_service.adapters.mongo import ensure_indexes as auth_indexes
from auth_service.domain import (
    ApiKeyRecord,
    AuthServer,
    Integration,
    RefreshMode,
    Sealed,
    SecretField,
)
from herald.events import IntegrationStatus, PostRequested
from herald.insights import MongoSnapshots, slot_of
from herald.ledger import INSIGHTS_DUE, LEASES, LEDGER, EntryState, MongoLedger
from herald.mongo import Document
from herald.topics import Platform
from publisher_tiktok.adapters.store import WEBHOOKS, MongoOutcomes
from publisher_whatsapp.adapters.store import EMITTED, MESSAGES, STATUSES, MongoMessages
from publisher_whatsapp.ports import SentMessage


def key_id(i: int) -> str:
    return f"key{i:07d}"


class AuthLoad:
    """Integrations, their last-use records, API keys and theirs grow to `n`."""

    def __init__(self, db: AsyncDatabase[Document], n: int, seed: int) -> None:
        self.db, self.n = db, n
        self.spread = Spread(n)
        self.rng = random.Random(seed)
        self.integrations = AuthIntegrations(db)
        self.keys = MongoApiKeys(db)

    async def fill(self) -> list[Awaitable[None]]:
        await auth_indexes(self.db)
        sealed = Sealed(1, "kid-1", "bm9uY2Vub25jZW5v", "Y2lwaGVydGV4dCBvZiBhIHRva2Vu" * 4)
        integration = Integration(
            id=integration_id(0),
            business_id=BIG,
            platform=Platform.FACEBOOK,
            account_id="page-0000000",
            account_name="Bench Page",
            account={"page_id": "page-0000000"},
            scopes=("pages_manage_posts", "pages_read_engagement"),
            status=IntegrationStatus.ACTIVE,
            mode=RefreshMode.CHECK,
            auth_server=AuthServer.FACEBOOK,
            provider_user_id="user-0000000",
            secrets={SecretField.ACCESS: sealed, SecretField.USER: sealed},
            connected_at=NOW,
            expires_at=NOW + 60 * DAY,
            last_checked_at=NOW,
        )
        await self.integrations.insert(integration)
        await self.integrations.touch(integration.id, NOW)
        key = ApiKeyRecord(key_id(0), BIG, "bench", ("posts:write",), "f" * 64, NOW)
        await self.keys.insert(key)
        await self.keys.touch(key.key_id, NOW)
        rest = range(1, self.n)
        return [
            clone(self.db["integrations"], integration.id, rest, self._integration_clone),
            clone(self.db["integration_usage"], integration.id, rest, _usage(integration_id)),
            clone(self.db["api_keys"], key.key_id, rest, self._key_clone),
            clone(self.db["api_key_usage"], key.key_id, rest, _usage(key_id)),
        ]

    def _integration_clone(self, _: Document, i: int) -> Document:
        return {
            "_id": integration_id(i),
            "business_id": self.spread.business(i),
            "account_id": f"page-{i:07d}",
            "provider_user_id": f"user-{i // 3:07d}",
            "mode": list(RefreshMode)[i % len(RefreshMode)].value,
            "expires_at": NOW + (i % 60) * DAY,
            "last_checked_at": ago(i % 48 * 3600),
        }

    def _key_clone(self, _: Document, i: int) -> Document:
        return {"_id": key_id(i), "business_id": self.spread.business(i)}

    def scenarios(self) -> list[Scenario]:
        return [
            Scenario("token read", True, self.token),
            Scenario("api key", True, self.api_key),
            Scenario("refresh sweep", False, self.due),
        ]

    async def token(self, _: int) -> Took:
        """What a publisher's token request reads and writes (handlers/tokens.py)."""
        took: Took = {}
        iid = integration_id(self.spread.pick(self.rng))
        found = await timed(took, "auth.get_integration", self.integrations.get(iid))
        check(found is not None and found.last_used_at is not None, "get_integration")
        await timed(took, "auth.touch", self.integrations.touch(iid, NOW))
        return took

    async def api_key(self, _: int) -> Took:
        """What an API key's introspection reads and writes (handlers/keys.py)."""
        took: Took = {}
        kid = key_id(self.spread.pick(self.rng))
        found = await timed(took, "auth.get_key", self.keys.get(kid))
        check(found is not None and found.last_used_at is not None, "get_key")
        await timed(took, "auth.touch_key", self.keys.touch(kid, NOW))
        return took

    async def due(self, _: int) -> Took:
        took: Took = {}
        due = self.integrations.due(
            RefreshMode.CHECK, now=NOW, expires_before=None, checked_before=ago(86_400), limit=100
        )
        found = await timed(took, "auth.due", due)
        check(len(found) >= min(10, self.n // 20), "due")
        return took


def _usage(ids: Callable[[int], str]) -> Callable[[Document, int], Document]:
    return lambda _, i: {"_id": ids(i), "at": ago(i)}


# -- publishers: the ledger, WhatsApp's message log, TikTok's webhooks --------------------------


def ledger_target(i: int) -> str:
    return f"t_fill{i:07d}"


def wamid(i: int) -> str:
    return f"wamid.{i:08d}"


def wa_target(i: int) -> str:
    return f"t_wa{i // WA_BATCH:07d}"


WA_BATCH = 20  # messages of one batch target
WA_STATUSES = ("sent", "delivered", "read")
TIKTOK_EVENTS = ("post.publish.complete", "post.publish.publicly_available")


class PublisherLoad:
    """A publisher's database: ledger entries and leases (two per target, for half the
    targets), WhatsApp's message log, status claims and markers, TikTok's webhooks, each at
    `n`. One database for all of them: each collection is its own table either way."""

    def __init__(self, db: AsyncDatabase[Document], n: int, seed: int) -> None:
        self.db, self.n = db, n
        self.spread = Spread(n)
        self.rng = random.Random(seed)
        self.ledger = MongoLedger(db)
        self.messages = MongoMessages(db)
        self.outcomes = MongoOutcomes(db)
        self.snapshots = MongoSnapshots(db)

    async def fill(self) -> list[Awaitable[None]]:
        await self.ledger.ensure_indexes()
        await self.snapshots.ensure_indexes()
        await self.messages.ensure_indexes()
        await self.outcomes.ensure_indexes()
        tid = ledger_target(0)
        await self.publish(tid, 0, {})
        await self.messages.record([self.message(0, wa_target(0))])
        await self.messages.claim(wamid(0), WA_STATUSES[0])
        await self.messages.emitted(wamid(0), WA_STATUSES[0])
        await self.outcomes.record("pub0000000", TIKTOK_EVENTS[0], {"post_id": "7300000000"})
        rest, half = range(1, self.n), range(1, self.n // 2)
        return [
            clone(self.db[LEDGER], tid, rest, self._entry_clone),
            clone(self.db[LEASES], f"{tid}:1", half, _lease(1)),
            clone(self.db[LEASES], f"{tid}:2", half, _lease(2)),
            clone(self.db[MESSAGES], wamid(0), rest, self._message_clone),
            clone(self.db[STATUSES], f"{wamid(0)}:sent", rest, _status_clone(with_key=True)),
            clone(self.db[EMITTED], f"{wamid(0)}:sent", rest, _status_clone(with_key=False)),
            clone(self.db[WEBHOOKS], f"pub0000000:{TIKTOK_EVENTS[0]}", rest, _webhook_clone),
        ]

    def request(self, tid: str, i: int) -> PostRequested:
        return PostRequested.model_validate(
            {
                "post_id": f"p_{tid}",
                "target_id": tid,
                "business_id": self.spread.business(i),
                "integration_id": integration_id(i % self.n),
                "platform": "facebook",
                "content": {"text": "Bench post"},
                "options": {"platform": "facebook"},
                "due_at": NOW,
                "requested_at": NOW,
            }
        )

    async def publish(self, tid: str, i: int, took: Took) -> None:
        """One publication's ledger writes, as herald.runtime.handler makes them."""
        lease = await timed(took, "ledger.acquire", self.ledger.acquire(tid))
        check(lease is not None, "acquire")
        assert lease is not None
        entry = await timed(took, "ledger.begin", self.ledger.begin(self.request(tid, i), 1))
        check(entry.fresh, "begin")
        step = self.ledger.save_checkpoint(lease, "container", {"container_id": f"c_{tid}"})
        await timed(took, "ledger.save_checkpoint", step)
        result = {"platform_post_id": f"fb_{tid}", "permalink": None, "published_at": NOW}
        await timed(took, "ledger.complete", self.ledger.complete(lease, result | {"attempt": 1}))
        await timed(took, "ledger.release", self.ledger.release(lease))

    def message(self, i: int, target: str) -> SentMessage:
        return SentMessage(
            message_id=wamid(i),
            phone_number_id="pn-1",
            post_id=f"p_{target}",
            target_id=target,
            business_id=self.spread.business(i),
            integration_id=integration_id(i % self.n),
            recipient_id=f"r{i}",
            to=f"+3519{i:08d}",
            sent_at=ago(self.n - i),
        )

    def _entry_clone(self, template: Document, i: int) -> Document:
        platform = list(Platform)[i % len(Platform)]
        tiktok = platform is Platform.TIKTOK
        result = template["result"] | {
            "platform_post_id": None if tiktok and i % 8 == 3 else f"{platform.value}_{i}",
            "published_at": ago(i % 30 * 86_400),
        }
        checkpoint = {"publish_id": f"pub{i:07d}", "public": True} if tiktok else {}
        # The insights queue holds the entries with a snapshot still due, whatever the ledger
        # holds besides: 1,000 at every size, 10 a slot (the others left it: null here).
        due = slot_of(NOW + timedelta(minutes=10 * (i % 100))) if i < 1_000 else None
        return {
            INSIGHTS_DUE: due,
            "_id": ledger_target(i),
            "post_id": f"p_{i:07d}",
            "business_id": self.spread.business(i),
            "integration_id": integration_id(i),
            "platform": platform.value,
            "result": result,
            "checkpoint": checkpoint,
        }

    def _message_clone(self, _: Document, i: int) -> Document:
        fields = dataclasses.asdict(self.message(i, wa_target(i)))
        return {"_id": fields.pop("message_id"), **fields}

    def scenarios(self) -> list[Scenario]:
        return [
            Scenario("ledger", True, self.publication),
            Scenario("ledger", True, self.redelivery),
            Scenario("whatsapp message log", True, self.send),
            Scenario("whatsapp message log", True, self.status),
            Scenario("whatsapp message log", True, self.resume),
            Scenario("tiktok webhook", True, self.webhook),
            Scenario("tiktok post-id sweep", False, self.awaiting),
            Scenario("insights queue", False, self.insights),
        ]

    async def publication(self, k: int) -> Took:
        took: Took = {}
        tid = f"t_new{k:07d}"
        await self.publish(tid, k, took)
        entry = await timed(took, "ledger.get", self.ledger.get(tid))
        check(entry is not None and entry.state is EntryState.PUBLISHED, "get")
        return took

    async def redelivery(self, _: int) -> Took:
        """A request delivered again for a target published before (a lease history exists)."""
        took: Took = {}
        i = self.rng.randrange(1, self.n // 2)
        tid = ledger_target(i)
        lease = await timed(took, "ledger.acquire[again]", self.ledger.acquire(tid))
        check(lease is not None and lease.epoch > 1, "acquire[again]")
        assert lease is not None
        entry = await timed(took, "ledger.begin[again]", self.ledger.begin(self.request(tid, i), 1))
        check(not entry.fresh, "begin[again]")
        await timed(took, "ledger.release[again]", self.ledger.release(lease))
        return took

    async def send(self, k: int) -> Took:
        took: Took = {}
        target = f"t_wanew{k:07d}"
        sent = [self.message(self.n * 2 + k * WA_BATCH + j, target) for j in range(10)]
        await timed(took, "whatsapp.record", self.messages.record(sent))
        return took

    async def status(self, k: int) -> Took:
        """A status webhook: its messages looked up by wamid, then each status claimed once."""
        took: Took = {}
        ids = [wamid(self.spread.pick(self.rng)) for _ in range(3)]
        found = await timed(took, "whatsapp.messages", self.messages.messages(ids))
        check(set(found) == set(ids), "messages")
        message = wamid(1 + k % (self.n - 1))
        fresh = await timed(took, "whatsapp.claim", self.messages.claim(message, "failed"))
        check(fresh or k >= self.n - 1, "claim")
        await timed(took, "whatsapp.emitted", self.messages.emitted(message, "failed"))
        return took

    async def resume(self, _: int) -> Took:
        took: Took = {}
        target = wa_target(self.spread.pick(self.rng))
        sent = await timed(took, "whatsapp.sent_for", self.messages.sent_for(target))
        check(len(sent) >= 1, "sent_for")
        return took

    async def webhook(self, k: int) -> Took:
        took: Took = {}
        content = {"post_id": f"74{k:08d}"}
        fresh = await timed(
            took, "tiktok.record", self.outcomes.record(f"pub_new{k}", TIKTOK_EVENTS[0], content)
        )
        check(fresh, "record")
        publish_id = f"pub{self.spread.pick(self.rng) // 2:07d}"
        learned = await timed(took, "tiktok.learned", self.outcomes.learned(publish_id))
        check(learned is not None, "learned")
        return took

    async def awaiting(self, _: int) -> Took:
        took: Took = {}
        since = ago(7 * 86_400)
        found = await timed(took, "tiktok.awaiting_ids", self.outcomes.awaiting_ids(since, 100))
        check(len(found) >= min(1, self.n // 500), "awaiting_ids")
        return took

    async def insights(self, k: int) -> Took:
        """The insights job's reads of its queue: a slot come due, then the newly published."""
        took: Took = {}
        slot = slot_of(NOW + timedelta(minutes=10 * (1 + k % 99)))
        found = await timed(took, "insights.due", self.snapshots.due(slot, 200))
        check(len(found) >= min(5, self.n // 200), "insights.due")
        new = await timed(took, "insights.due[new]", self.snapshots.due("new", 200))
        check(len(new) >= 1, "insights.due[new]")
        return took


def _lease(epoch: int) -> Callable[[Document, int], Document]:
    def vary(_: Document, i: int) -> Document:
        return {"_id": f"{ledger_target(i)}:{epoch}", "target_id": ledger_target(i)}

    return vary


def _status_clone(*, with_key: bool) -> Callable[[Document, int], Document]:
    def vary(_: Document, i: int) -> Document:
        message, status = wamid(i // 3), WA_STATUSES[i % 3]  # three per message
        doc: Document = {"_id": f"{message}:{status}"}
        return doc | ({"message_id": message, "status": status} if with_key else {})

    return vary


def _webhook_clone(_: Document, i: int) -> Document:
    publish_id, event = f"pub{i // 2:07d}", TIKTOK_EVENTS[i % 2]
    return {"_id": f"{publish_id}:{event}", "publish_id": publish_id, "event": event}

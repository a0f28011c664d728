"""Hand-written fakes of `herald` ports for tests: they record what happened and can fail."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.emitter import Outgoing
from herald.errors import PlatformError, Transient
from herald.events import Event, PostRequested, Violation
from herald.ledger import EntryState, Lease, LedgerEntry, Opening
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published, Wait
from herald.topics import Platform


@dataclass
class Emitted:
    event: Event
    topic: str
    key: str
    headers: dict[str, str]
    lane: int | None = None


@dataclass
class RecordingEmitter:
    """An `EventEmitter` that keeps every event; set `fail_with` to make the next emits raise."""

    emitted: list[Emitted] = field(default_factory=list)
    fail_with: Exception | None = None

    async def emit(
        self,
        event: Event,
        *,
        topic: str,
        key: str,
        headers: Mapping[str, str] | None = None,
        lane: int | None = None,
    ) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.emitted.append(Emitted(event, topic, key, dict(headers or {}), lane))

    async def emit_all(self, outgoing: Sequence[Outgoing]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        for out in outgoing:
            self.emitted.append(Emitted(out.event, out.topic, out.key, dict(out.headers or {})))

    def of_type(self, cls: type[Event]) -> list[Event]:
        return [e.event for e in self.emitted if isinstance(e.event, cls)]


class InMemoryLedger:
    """A `Ledger` in a dict, with the same lease rules as `MongoLedger` (one holder at a time)."""

    def __init__(self) -> None:
        self.entries: dict[str, LedgerEntry] = {}
        self.holders: dict[str, Lease] = {}
        self._epochs: dict[str, int] = {}

    async def acquire(self, target_id: str) -> Lease | None:
        if target_id in self.holders:
            return None
        epoch = self._epochs.get(target_id, 0) + 1
        self._epochs[target_id] = epoch
        lease = Lease(target_id, "memory", epoch)
        self.holders[target_id] = lease
        return lease

    async def release(self, lease: Lease) -> None:
        if self.holders.get(lease.target_id) == lease:
            del self.holders[lease.target_id]

    async def begin(self, request: PostRequested, attempt: int) -> LedgerEntry:
        entry = self.entries.get(request.target_id)
        if entry is None:
            entry = LedgerEntry(request.target_id, EntryState.IN_PROGRESS, attempt)
            self.entries[request.target_id] = entry
            return LedgerEntry(**(vars(entry) | {"fresh": True}))
        if entry.state is EntryState.IN_PROGRESS:
            entry.attempt = attempt
        return LedgerEntry(**vars(entry))

    async def start(
        self, request: PostRequested, attempt: int, opening: Opening | None = None
    ) -> tuple[Lease, LedgerEntry] | None:
        lease = await self.acquire(request.target_id)
        if lease is None:
            return None
        try:
            entry = await self.begin(request, attempt)
        except BaseException:
            await self.release(lease)
            raise
        if entry.fresh and opening is not None:  # as MongoLedger: a new entry holds it
            stored = self.entries[request.target_id]
            stored.checkpoint_step, stored.checkpoint = opening.step, dict(opening.data)
            entry.checkpoint_step, entry.checkpoint = opening.step, dict(opening.data)
        return lease, entry

    async def save_checkpoint(self, lease: Lease, step: str, data: dict[str, Any]) -> None:
        entry = self.entries[lease.target_id]
        entry.checkpoint_step, entry.checkpoint = step, dict(data)

    async def complete(self, lease: Lease, result: dict[str, Any]) -> None:
        entry = self.entries[lease.target_id]
        entry.state, entry.result = EntryState.PUBLISHED, dict(result)

    async def fail(self, lease: Lease, error: dict[str, Any]) -> None:
        entry = self.entries[lease.target_id]
        entry.state, entry.error = EntryState.FAILED, dict(error)

    async def reopen(self, lease: Lease, replay_id: str) -> LedgerEntry:
        entry = self.entries[lease.target_id]
        entry.state, entry.attempt = EntryState.IN_PROGRESS, 1
        entry.replays = [*entry.replays, replay_id]
        return LedgerEntry(**vars(entry))


@dataclass
class StaticTokens:
    """A `TokenSource` that hands out `token` (refresh changes it); `fail_with` makes both fail."""

    token: str = "sandbox-token"  # noqa: S105 - a fake credential for tests
    account_id: str = "acct-1"
    account: dict[str, str] = field(default_factory=dict)
    refreshes: int = 0
    gets: int = 0
    fail_with: Exception | None = None

    async def get(self, integration_id: str, business_id: str) -> Credentials:
        self.gets += 1
        if self.fail_with is not None:
            raise self.fail_with
        return Credentials(self.token, self.account_id, self.account)

    async def refresh(self, integration_id: str, business_id: str) -> Credentials:
        self.refreshes += 1
        if self.fail_with is not None:
            raise self.fail_with
        self.token = f"{self.token}-r{self.refreshes}"
        return Credentials(self.token, self.account_id, self.account)


@dataclass
class ScriptedPlatform:
    """A `Platform` that answers each `publish` with the next item of `script` (an outcome, or an
    error to raise); it records every call with the checkpoint it saw."""

    name: Platform
    script: list[Outcome | PlatformError] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    calls: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)
    save_step: str | None = None

    def validate(self, request: PostRequested) -> list[Violation]:
        return list(self.violations)

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        self.calls.append((credentials.access_token, checkpoint.step, dict(checkpoint.data)))
        if self.save_step is not None:
            await checkpoint.save(self.save_step, calls=len(self.calls))
        if not self.script:
            msg = "ScriptedPlatform ran out of script"
            raise AssertionError(msg)
        step = self.script.pop(0)
        if isinstance(step, PlatformError):
            raise step
        return step


@dataclass(frozen=True)
class Plan:
    """How `MongoFakePlatform` treats a target.

    `kind`: "one_shot" (one visible call, nothing to check afterwards, like a Facebook feed post)
    or "two_phase" (an invisible prepare step, then a visible publish whose status can be read
    back, like Instagram containers and TikTok publish ids). `transient_failures`: fail that many
    times first. `checks`: answer Wait that many times first. `hang_after_visible`: after the
    visible effect, never return (a crash window for tests to kill the consumer in).
    """

    kind: str = "one_shot"
    transient_failures: int = 0
    checks: int = 0
    wait_s: float = 1.0
    hang_after_visible: bool = False


class MongoFakePlatform:
    """A fake platform whose visible effects live in MongoDB, so they survive a killed process and
    can be counted: `platform_posts` holds one document per visible publish."""

    def __init__(
        self,
        db: Any,
        name: Platform = Platform.FACEBOOK,
        *,
        default: Plan | None = None,
        plans: Mapping[str, Plan] | None = None,
    ) -> None:
        self.name = name
        self._db = db
        self._default = default or Plan()
        self._plans = dict(plans or {})

    def validate(self, request: PostRequested) -> list[Violation]:
        return []

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        plan = self._plans.get(request.target_id, self._default)
        calls = await self._count_call(request.target_id)
        if calls <= plan.transient_failures:
            raise Transient(f"fake outage {calls} of {plan.transient_failures}", code="2")
        checks = int(checkpoint.data.get("checks", 0))
        if checks < plan.checks:
            await checkpoint.save("processing", checks=checks + 1)
            return Wait(plan.wait_s, "processing", f"check {checks + 1} of {plan.checks}")
        if plan.kind == "two_phase":
            return await self._two_phase(request, checkpoint, plan)
        post_id = await self._visible(request.target_id)
        await self._maybe_hang(plan)
        return Published(post_id, f"https://fake.example/{post_id}")

    async def _two_phase(
        self, request: PostRequested, checkpoint: Checkpoint, plan: Plan
    ) -> Outcome:
        containers = self._db["platform_containers"]
        container_id = checkpoint.data.get("container_id")
        if container_id is not None:
            container = await containers.find_one({"_id": container_id})
            if container is not None and container["status"] == "published":
                return Published(
                    container["post_id"], f"https://fake.example/{container['post_id']}"
                )
        else:
            container_id = uuid.uuid4().hex
            await containers.insert_one(
                {"_id": container_id, "target_id": request.target_id, "status": "created"}
            )
            await checkpoint.save("container_created", container_id=container_id)
        post_id = await self._visible(request.target_id)
        await containers.update_one(
            {"_id": container_id}, {"$set": {"status": "published", "post_id": post_id}}
        )
        await self._maybe_hang(plan)
        return Published(post_id, f"https://fake.example/{post_id}")

    async def _count_call(self, target_id: str) -> int:
        await self._db["platform_calls"].insert_one(
            {"target_id": target_id, "at": datetime.now(UTC)}
        )
        return int(await self._db["platform_calls"].count_documents({"target_id": target_id}))

    async def _visible(self, target_id: str) -> str:
        post_id = uuid.uuid4().hex[:12]
        await self._db["platform_posts"].insert_one(
            {"_id": post_id, "target_id": target_id, "at": datetime.now(UTC)}
        )
        return post_id

    async def _maybe_hang(self, plan: Plan) -> None:
        if plan.hang_after_visible:
            await asyncio.Event().wait()  # the crash window: killed or cancelled here

    async def visible_publishes(self, target_id: str) -> int:
        return int(await self._db["platform_posts"].count_documents({"target_id": target_id}))

    async def calls(self, target_id: str) -> list[datetime]:
        cursor = self._db["platform_calls"].find({"target_id": target_id}).sort("at", 1)
        return [doc["at"] async for doc in cursor]

"""Hand-written fakes of `herald` ports for tests: they record what happened and can fail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from herald.errors import PlatformError
from herald.events import Event, PostRequested, Violation
from herald.ledger import EntryState, Lease, LedgerEntry
from herald.runtime.ports import Checkpoint, Credentials, Outcome
from herald.topics import Platform


@dataclass
class Emitted:
    event: Event
    topic: str
    key: str
    headers: dict[str, str]


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
    ) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.emitted.append(Emitted(event, topic, key, dict(headers or {})))

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
        elif entry.state is EntryState.IN_PROGRESS:
            entry.attempt = attempt
        return LedgerEntry(**vars(entry))

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

"""The background work: one refresh pass, vault key rotation, the sweep of expired OAuth states,
spent use marks, webhook delivery marks and stale locks, and the gauges (integrations by
provider and status, vault records by key id).

`admin refresh --once` and `admin rotate-keys` run the same functions as the loop and the
admin API, so all three behave alike.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from auth_service.domain import Integration, RefreshMode
from auth_service.errors import AuthServiceError, NeedsReauthorization
from auth_service.handlers.base import Deps, lock_name
from auth_service.handlers.tokens import refresh_locked
from auth_service.vault import SealContext, VaultError

log = structlog.get_logger(__name__)
# State and code use marks, and webhook delivery marks, are kept a day: longer than a state
# lives and than any webhook freshness window (platform_settings.WEBHOOK_WINDOW_MAX_S), so a replay
# inside its window always finds its mark.
MARKS_KEPT_S = 86_400


@dataclass
class PassReport:
    refreshed: int = 0
    checked: int = 0
    expired: int = 0
    failed: int = 0
    busy: int = 0


@dataclass
class RotationReport:
    primary_kid: str
    rewrapped: int = 0
    busy_retries: int = 0
    failed: list[str] = field(default_factory=list)
    by_kid: dict[str, int] = field(default_factory=dict)


async def refresh_pass(deps: Deps) -> PassReport:
    """Refresh every integration due within its margin; check Page and system-user tokens."""
    report = PassReport()
    now = deps.clock.now()
    m = deps.policy.margins
    checked_before = now - timedelta(seconds=m.check_interval_s)
    windows = {
        RefreshMode.ROTATE: (now + timedelta(seconds=m.short_s), None),
        RefreshMode.EXCHANGE: (now + timedelta(seconds=m.long_s), checked_before),
        RefreshMode.CHECK: (None, checked_before),
    }
    for mode, (expires_before, checked) in windows.items():
        due = await deps.integrations.due(
            mode,
            now=now,
            expires_before=expires_before,
            checked_before=checked,
            limit=deps.policy.batch,
        )
        for integration in due:
            check_only = expires_before is None or not _expires_before(integration, expires_before)
            await _one(deps, integration, check_only, report)
    return report


def _expires_before(integration: Integration, limit: datetime) -> bool:
    times = (integration.expires_at, integration.user_expires_at)
    return any(t is not None and t <= limit for t in times)


async def _one(deps: Deps, integration: Integration, check_only: bool, report: PassReport) -> None:
    owner = uuid.uuid4().hex
    name = lock_name(integration.id)
    if not await deps.locks.acquire(name, owner, deps.clock.now(), deps.policy.lease_s):
        report.busy += 1  # someone else is refreshing it right now
        return
    try:
        current = await deps.integrations.get(integration.id)
        if current is None or current.version != integration.version or not current.usable:
            return  # changed since the query: whoever changed it did the work
        await refresh_locked(deps, current, check_only=check_only)
        if check_only:
            report.checked += 1
        else:
            report.refreshed += 1
    except NeedsReauthorization:
        report.expired += 1
    except AuthServiceError:
        report.failed += 1
    finally:
        await deps.locks.release(name, owner)


async def rotate_keys(deps: Deps, *, concurrency: int = 8, max_rounds: int = 200) -> RotationReport:
    """Re-encrypt every record not under the primary key, under each integration's lock (so
    a concurrent refresh and the rotation never overwrite each other). Locked ones are
    retried until none is left."""
    report = RotationReport(deps.vault.primary_kid)
    gate = asyncio.Semaphore(concurrency)
    for _ in range(max_rounds):
        ids = await deps.integrations.ids_not_under(deps.vault.primary_kid, 1_000)
        ids = [i for i in ids if i not in report.failed]
        if not ids:
            break
        outcomes = await asyncio.gather(*(_rewrap(deps, i, gate, report) for i in ids))
        if not any(outcomes):
            await asyncio.sleep(0.05)
    report.by_kid = await deps.integrations.count_by_kid()
    deps.metrics.vault_records(report.by_kid)
    log.info("vault.rotated", primary_kid=report.primary_kid, rewrapped=report.rewrapped)
    return report


async def _rewrap(
    deps: Deps, integration_id: str, gate: asyncio.Semaphore, report: RotationReport
) -> bool:
    async with gate:
        owner = uuid.uuid4().hex
        name = lock_name(integration_id)
        if not await deps.locks.acquire(name, owner, deps.clock.now(), deps.policy.lease_s):
            report.busy_retries += 1
            return False
        try:
            current = await deps.integrations.get(integration_id)
            if current is None:
                return True
            try:
                secrets = {
                    f: deps.vault.rewrap(s, SealContext(current.business_id, current.id, f))
                    if deps.vault.needs_rewrap(s)
                    else s
                    for f, s in current.secrets.items()
                }
            except VaultError as exc:
                log.error("vault.rewrap_failed", integration_id=integration_id, error=str(exc))
                report.failed.append(integration_id)
                return False
            if await deps.integrations.replace(
                replace(current, secrets=secrets), expected_version=current.version
            ):
                report.rewrapped += 1
                return True
            return False
        finally:
            await deps.locks.release(name, owner)


async def sweep(deps: Deps) -> int:
    """Delete what has served its time: expired OAuth states (a used one is deleted when it is
    used), old use and delivery marks, stale locks. Runs whether or not refresh is enabled."""
    now = deps.clock.now()
    removed = await deps.states.cleanup(now, MARKS_KEPT_S)
    removed += await deps.deliveries.cleanup(now - timedelta(seconds=MARKS_KEPT_S))
    return removed + await deps.locks.cleanup(now)


async def maintenance_pass(deps: Deps) -> PassReport:
    """What the loop does every interval: refresh, sweep, update the gauges."""
    report = await refresh_pass(deps)
    await sweep(deps)
    deps.metrics.integrations(await deps.integrations.count_by_status())
    deps.metrics.vault_records(await deps.integrations.count_by_kid())
    return report

"""The claim an expansion holds on its broadcast target, renewed while it works
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

Claims are those of dispatch (ADR 0006): `<target>:<epoch>:<generation>`, inserted, never
updated; the newest generation is the holder, and after `lease_s` without a newer one another
replica may insert the next. An expansion of a large audience can outlast a lease, so its holder
renews by inserting the next generation itself. That insert fails only if another replica took
the claim over (it found ours stale), and then the holder stops: at any moment at most one of
them can write, without any atomic update.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from scheduler.domain import claim_id, dispatch_id, is_stale
from scheduler.handlers.base import Deps
from scheduler.ports import BroadcastItem, Claim

RENEW_AFTER = 0.3  # of the lease


class Interrupted(Exception):
    """The claim was taken over; what was written stays and its new holder goes on from it."""


@dataclass
class Lease:
    item: BroadcastItem
    claim: Claim
    renewed_at: float

    async def keep(self, deps: Deps) -> None:
        """Renew if a good part of the lease is gone; `Interrupted` if it is not ours now."""
        if time.monotonic() - self.renewed_at < deps.lease_s * RENEW_AFTER:
            return
        nxt = _claim(self.item, self.claim.generation + 1, self.claim.owner, deps)
        if nxt.id not in await deps.dispatch.claim([nxt]):
            raise Interrupted(self.item.target_id)
        self.claim, self.renewed_at = nxt, time.monotonic()


async def claim_broadcast(deps: Deps, item: BroadcastItem, owner: str) -> tuple[str, Lease | None]:
    """("owned", lease), or ("done" | "cancelled" | "busy", None)."""
    first = _claim(item, 0, owner, deps)
    if first.id in await deps.dispatch.claim([first]):
        return "owned", Lease(item, first, time.monotonic())
    if await deps.dispatch.dispatched([dispatch_id(item.target_id, item.epoch)]):
        return "done", None
    claims = await deps.dispatch.claims_for(item.target_id, item.epoch)
    newest = claims[0] if claims else None
    if newest is not None and newest.kind == "cancel":
        return "cancelled", None
    held_since = None if newest is None else max(newest.claimed_at, item.due_at)
    if held_since is None or not is_stale(held_since, deps.clock(), deps.lease_s):
        return "busy", None
    takeover = _claim(item, newest.generation + 1 if newest else 0, owner, deps)
    if takeover.id in await deps.dispatch.claim([takeover]):
        return "owned", Lease(item, takeover, time.monotonic())
    return "busy", None


async def let_go(deps: Deps, item: BroadcastItem, owner: str) -> None:
    """Delete every claim this replica holds on the broadcast, so that the next round (here or
    elsewhere) takes it up at once. They are ours alone: deleting them races with no one."""
    claims = await deps.dispatch.claims_for(item.target_id, item.epoch)
    await deps.dispatch.release([c.id for c in claims if c.owner == owner and c.kind == "dispatch"])


def _claim(item: BroadcastItem, generation: int, owner: str, deps: Deps) -> Claim:
    cid = claim_id(item.target_id, item.epoch, generation)
    return Claim(cid, item.target_id, item.epoch, generation, owner, "dispatch", deps.clock())

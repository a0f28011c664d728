"""Controlling the sandbox: reset, the clock, faults, the ledger, webhooks, background work."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from platform_sandbox.clock import iso
from platform_sandbox.faults import FaultRule
from platform_sandbox.ledger import LedgerQuery
from platform_sandbox.sandbox import Sandbox


class Advance(BaseModel):
    model_config = {"extra": "forbid"}
    seconds: float = Field(ge=0)


class LedgerFilter(BaseModel):
    model_config = {"extra": "forbid"}
    platform: str | None = None
    kind: str | None = None
    account: str | None = None
    marker: str | None = None
    contains: str | None = Field(default=None, description="Substring of the posted text.")
    since_seq: int | None = None

    def query(self) -> LedgerQuery:
        return LedgerQuery(**self.model_dump())


class WebhookRoute(BaseModel):
    model_config = {"extra": "forbid"}
    url: str | None
    duplicate_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    reorder: bool = False


def _demo(sandbox: Sandbox) -> dict[str, Any] | None:
    return None if sandbox.demo is None else vars(sandbox.demo)


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(prefix="/_sandbox", tags=["sandbox: control"])
    _state(api, sandbox)
    _faults(api, sandbox)
    _ledger(api, sandbox)
    _webhooks(api, sandbox)
    return api


def _state(api: APIRouter, sandbox: Sandbox) -> None:
    @api.post("/reset")
    async def reset() -> dict[str, Any]:
        await sandbox.tasks.cancel_all()
        sandbox.reset()
        return {"reset": True, "demo": _demo(sandbox)}

    @api.get("/clock")
    async def clock() -> dict[str, Any]:
        now = sandbox.clock.now()
        return {"now": now, "iso": iso(now), "offset_s": sandbox.clock.offset}

    @api.post("/clock/advance")
    async def advance(body: Advance) -> dict[str, Any]:
        sandbox.clock.advance(body.seconds)
        return await clock()

    @api.post("/settle")
    async def settle(timeout_s: float = 30.0) -> dict[str, Any]:
        """Wait for background work (media pulls) so a test reads a settled state."""
        return {"still_running": await sandbox.tasks.settle(timeout_s)}


def _faults(api: APIRouter, sandbox: Sandbox) -> None:
    @api.post("/faults", status_code=201)
    async def add_fault(rule: FaultRule) -> dict[str, Any]:
        fault = sandbox.faults.add(rule)
        return {"id": fault.id, "rule": rule.model_dump()}

    @api.get("/faults")
    async def faults() -> dict[str, Any]:
        items = sandbox.faults.all()
        return {
            "faults": [
                {
                    "id": f.id,
                    "fired": f.fired,
                    "remaining": f.remaining,
                    "rule": f.rule.model_dump(),
                }
                for f in items
            ]
        }

    @api.delete("/faults/{fault_id}")
    async def remove_fault(fault_id: int) -> dict[str, Any]:
        if not sandbox.faults.remove(fault_id):
            raise HTTPException(404, f"no fault {fault_id}")
        return {"removed": fault_id}

    @api.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        sandbox.faults.clear()
        return {"cleared": True}


def _ledger(api: APIRouter, sandbox: Sandbox) -> None:
    @api.get("/ledger")
    async def ledger(where: Annotated[LedgerFilter, Query()]) -> dict[str, Any]:
        entries = [e.as_json() for e in sandbox.ledger.query(where.query())]
        return {"count": len(entries), "entries": entries}

    @api.get("/ledger/duplicates")
    async def duplicates(where: Annotated[LedgerFilter, Query()]) -> dict[str, Any]:
        """Markers published more than once among the selected entries."""
        return {"duplicates": sandbox.ledger.duplicates(where.query())}

    @api.delete("/ledger")
    async def clear_ledger() -> dict[str, Any]:
        sandbox.ledger.clear()
        return {"cleared": True}


def _webhooks(api: APIRouter, sandbox: Sandbox) -> None:
    @api.put("/webhooks/{platform}")
    async def route_webhooks(platform: str, body: WebhookRoute) -> dict[str, Any]:
        if platform not in ("whatsapp", "tiktok"):
            raise HTTPException(404, "webhooks exist for whatsapp and tiktok")
        try:
            sandbox.webhooks.configure(platform, body.url, body.duplicate_probability, body.reorder)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return {"platform": platform} | body.model_dump()

    @api.get("/webhooks")
    async def webhooks() -> dict[str, Any]:
        hooks = sandbox.webhooks
        return {
            "routes": {p: vars(r) for p, r in hooks.routes.items()},
            "pending": [d.as_json() for d in hooks.pending],
            "delivered": [d.as_json() for d in hooks.history],
            "skipped": hooks.skipped,
        }

    @api.post("/webhooks/deliver")
    async def deliver(everything: bool = False) -> dict[str, Any]:
        attempts = await sandbox.webhooks.deliver_due(everything=everything)
        return {"attempts": [d.as_json() for d in attempts]}

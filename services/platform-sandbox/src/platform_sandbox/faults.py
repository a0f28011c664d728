"""Fault injection: make a chosen platform, endpoint and account misbehave on purpose.

A rule matches by platform, endpoint name, method and account and fires every time, a number of
times, or with a probability. What it does:

- `error`: answer with the given platform error instead of doing anything (nothing happens);
- `latency`: wait, then behave normally;
- `timeout`: hold the request, then drop the connection without an answer;
- `drop`: drop the connection at once, nothing happens;
- `accept_then_fail`: do the work (the side effect happens and the ledger shows it), then answer
  with a 5xx or drop the connection. This is the ambiguous outcome publishers must survive.

Dropping a connection is done the way a server process does it: the response starts, then the
app raises, and the server closes the socket mid-response (uvicorn logs the exception).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class FaultAction(StrEnum):
    ERROR = "error"
    LATENCY = "latency"
    TIMEOUT = "timeout"
    DROP = "drop"
    ACCEPT_THEN_FAIL = "accept_then_fail"


class FaultError(BaseModel):
    """The error to answer with; fields the platform does not use are ignored."""

    model_config = {"extra": "forbid"}

    status: int | None = Field(default=None, ge=400, le=599)
    code: int | str | None = None
    subcode: int | None = None
    message: str | None = None


class FaultRule(BaseModel):
    model_config = {"extra": "forbid"}

    platform: str = Field(default="*", description="facebook, instagram, whatsapp, tiktok, meta")
    endpoint: str = Field(default="*", description="e.g. messages, media_publish, video/init")
    method: str | None = None
    account: str | None = None
    action: FaultAction = FaultAction.ERROR
    error: FaultError | None = None
    then: str = Field(default="error", pattern="^(error|drop)$")
    probability: float | None = Field(default=None, gt=0.0, le=1.0)
    count: int | None = Field(default=None, ge=1)
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    hang_s: float | None = Field(default=None, gt=0.0, le=3_600.0)


@dataclass
class ActiveFault:
    id: int
    rule: FaultRule
    remaining: int | None
    fired: int = 0


@dataclass(frozen=True)
class Target:
    platform: str
    endpoint: str
    method: str
    account: str | None


log = structlog.get_logger(__name__)


class ConnectionDroppedError(Exception):
    """Raised after a response started, so the server closes the connection mid-answer."""


class QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every drop the sandbox causes on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDroppedError))


class DroppedResponse(Response):
    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        del receive
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        log.warning("fault.connection_dropped", path=scope.get("path"))
        msg = "fault injection dropped the connection"
        raise ConnectionDroppedError(msg)


class FaultStore:
    def __init__(self, seed: int | None) -> None:
        self._rules: dict[int, ActiveFault] = {}
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)  # noqa: S311 - chance of a fault, not a secret

    def add(self, rule: FaultRule) -> ActiveFault:
        fault = ActiveFault(next(self._ids), rule, rule.count)
        self._rules[fault.id] = fault
        return fault

    def all(self) -> list[ActiveFault]:
        return list(self._rules.values())

    def remove(self, fault_id: int) -> bool:
        return self._rules.pop(fault_id, None) is not None

    def clear(self) -> None:
        self._rules.clear()

    def match(self, target: Target) -> FaultRule | None:
        """The first rule for `target` that fires now; a counted rule is used up by firing."""
        for fault in list(self._rules.values()):
            if not _applies(fault.rule, target):
                continue
            if fault.rule.probability is not None and self._rng.random() >= fault.rule.probability:
                continue
            fault.fired += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    del self._rules[fault.id]
            return fault.rule
        return None


def _applies(rule: FaultRule, target: Target) -> bool:
    return (
        rule.platform in ("*", target.platform)
        and rule.endpoint in ("*", target.endpoint)
        and (rule.method is None or rule.method.upper() == target.method)
        and (rule.account is None or rule.account == target.account)
    )


async def run_with_fault(
    rule: FaultRule | None,
    run: Callable[[], Awaitable[Response]],
    render: Callable[[FaultError | None], Response],
    *,
    hang_s: float,
) -> Response:
    """Run `run` as `rule` says; `render` writes the platform's own error for the rule."""
    if rule is None:
        return await run()
    if rule.latency_ms:
        await asyncio.sleep(rule.latency_ms / 1000)
    if rule.action is FaultAction.LATENCY:
        return await run()
    if rule.action is FaultAction.ERROR:
        return render(rule.error)
    if rule.action is FaultAction.TIMEOUT:
        await asyncio.sleep(rule.hang_s or hang_s)
        return DroppedResponse()
    if rule.action is FaultAction.DROP:
        return DroppedResponse()
    await run()  # accept then fail: the side effect happens, the answer is lost
    return DroppedResponse() if rule.then == "drop" else render(rule.error)

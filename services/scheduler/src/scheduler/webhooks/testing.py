"""A webhook receiver for tests and local runs: a small app that verifies every delivery with
the Standard Webhooks library (as a business's receiver would), proves the signature covers the
id, the timestamp and the body (each forged in turn must fail), and answers 500 while told to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    message_id: str
    type: str
    data: dict[str, Any]
    verified: bool
    forgeries_refused: bool  # id, timestamp and body each changed: every check failed
    answered: int


@dataclass
class Receiver:
    secret: str = ""
    failures_left: int = 0  # answer 500 to this many deliveries first
    received: list[Received] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            verified = _verifies(self.secret, body, headers)
            status = 200 if verified else 401
            if verified and self.failures_left > 0:
                self.failures_left -= 1
                status = 500
            payload = json.loads(body) if verified else {}
            self.received.append(
                Received(
                    message_id=headers.get("webhook-id", ""),
                    type=str(payload.get("type", "")),
                    data=dict(payload.get("data") or {}),
                    verified=verified,
                    forgeries_refused=_forgeries_refused(self.secret, body, headers),
                    answered=status,
                )
            )
            return Response(status_code=status)

        return app

    def delivered(self) -> list[Received]:
        """What was accepted (answered 2xx), in arrival order."""
        return [r for r in self.received if r.answered < 300]

    def of_type(self, kind: str) -> list[Received]:
        return [r for r in self.delivered() if r.type == kind]


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def _forgeries_refused(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    stamp = int(headers.get("webhook-timestamp", "0"))
    forged = [
        (body, {**headers, "webhook-id": headers.get("webhook-id", "") + "x"}),
        (body, {**headers, "webhook-timestamp": str(stamp - 1)}),
        (body + b" ", headers),
    ]
    return not any(_verifies(secret, b, h) for b, h in forged)

"""Forwarding TikTok's `authorization.removed` to auth-service, body and signature untouched."""

from __future__ import annotations

import httpx
import structlog

log = structlog.get_logger(__name__)


class AuthServiceForwarder:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url

    async def forward(self, body: bytes, signature: str) -> bool:
        headers = {"Content-Type": "application/json", "TikTok-Signature": signature}
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("tiktok.webhook_forward_failed", error=type(exc).__name__)
            return False
        if response.status_code >= 300:
            log.warning("tiktok.webhook_forward_refused", status=response.status_code)
        # 4xx: auth-service refused it for good (e.g. a stale signature); a retry would too.
        return response.status_code < 500

"""What platforms tell us about grants: Meta's deauthorize and data-deletion callbacks and
TikTok's `authorization.removed` webhook. Each is verified before it is read, and each marks the
grant's integrations disconnected (once: a repeated delivery changes nothing)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import structlog

from auth_service.domain import AuthServer, Integration
from auth_service.errors import AuthServiceError, Unauthorized
from auth_service.handlers.base import Deps
from auth_service.handlers.lifecycle import disconnect_grant
from auth_service.signatures import SignatureError, verify_signed_request
from herald.signatures import verify_tiktok

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Deletion:
    confirmation_code: str
    status_url: str
    integrations: list[Integration]


def _meta_grant(deps: Deps, signed_request: str) -> tuple[AuthServer, str]:
    """Which login the request is from (the Meta app or the Instagram app) and its user id."""
    keys = (deps.policy.meta_app_secret, deps.policy.instagram_app_secret)
    try:
        index, payload = verify_signed_request(signed_request, keys)
    except SignatureError as exc:
        raise Unauthorized(str(exc), code="invalid_signature") from exc
    server = AuthServer.FACEBOOK if index == 0 else AuthServer.INSTAGRAM
    return server, str(payload["user_id"])


async def meta_deauthorize(deps: Deps, signed_request: str) -> list[Integration]:
    server, user_id = _meta_grant(deps, signed_request)
    done = await disconnect_grant(deps, server, user_id, "deauthorized")
    log.info("meta.deauthorized", auth_server=server.value, integrations=len(done))
    return done


async def meta_data_deletion(deps: Deps, signed_request: str) -> Deletion:
    server, user_id = _meta_grant(deps, signed_request)
    done = await disconnect_grant(deps, server, user_id, "data_deletion_requested", purge=True)
    code = secrets.token_hex(10)
    await deps.deletions.record(code, user_id, [i.id for i in done], deps.clock.now())
    url = f"{deps.policy.public_base_url}/v1/webhooks/meta/data-deletion/{code}"
    return Deletion(code, url, done)


async def tiktok_event(deps: Deps, body: bytes, signature: str | None) -> list[Integration]:
    now, policy = deps.clock.now().timestamp(), deps.policy
    try:
        verify_tiktok(signature, body, policy.tiktok_client_secrets, now, policy.tiktok_tolerance_s)
    except SignatureError as exc:
        raise Unauthorized(str(exc), code="invalid_signature") from exc
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise AuthServiceError("the webhook body is not JSON", code="invalid_body") from exc
    if not isinstance(event, dict):
        raise AuthServiceError("the webhook body is not an object", code="invalid_body")
    if event.get("event") != "authorization.removed" or not event.get("user_openid"):
        return []  # other events (publish status) are the publisher's business
    reason = f"authorization_removed:{_reason(event.get('content'))}"
    return await disconnect_grant(deps, AuthServer.TIKTOK, str(event["user_openid"]), reason)


def _reason(content: object) -> str:
    try:
        parsed = json.loads(content) if isinstance(content, str) else content
    except ValueError:
        return "unknown"
    return str(parsed.get("reason", "unknown")) if isinstance(parsed, dict) else "unknown"

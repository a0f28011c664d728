"""What platforms tell us about grants: Meta's deauthorize and data-deletion callbacks and
TikTok's `authorization.removed` webhook. Each is verified before it is read, and each marks the
grant's integrations disconnected.

Freshness and replay (docs/security.md, "Webhooks"): a Meta `signed_request` must have been
issued within `meta_tolerance_s` of now and a TikTok signature's `t` within
`tiktok_tolerance_s`; inside that window a delivery is acted on once: a mark keyed by a digest
of what the platform signed is inserted first (unique), and a second delivery finds it and is
refused with 409 `replayed_delivery`. So a captured callback cannot disconnect an account that
was connected again after it. A delivery whose handling fails drops its mark, so the
platform's retry is taken. Meta's two callbacks share one mark space: a deauthorize request
replayed at the data-deletion URL is refused too.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from auth_service.domain import AuthServer, Integration, digest
from auth_service.errors import AuthServiceError, Unauthorized
from auth_service.handlers.base import Deps
from auth_service.handlers.lifecycle import disconnect_grant
from auth_service.signatures import SignatureError, check_fresh, verify_signed_request
from auth_service.strict_json import JsonRefused, parse_strict, text_problem
from herald.apierrors import Conflict
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
        check_fresh(payload, deps.clock.now().timestamp(), deps.policy.meta_tolerance_s)
    except SignatureError as exc:
        raise Unauthorized(str(exc), code="invalid_signature") from exc
    server = AuthServer.FACEBOOK if index == 0 else AuthServer.INSTAGRAM
    return server, _account_id(payload.get("user_id"), "the signed_request's user_id")


def _account_id(value: Any, what: str) -> str:
    """A platform's user id as text; a signed value of another kind is refused (400)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > 256:
        raise AuthServiceError(f"{what} is not an id", code="invalid_payload")
    why = text_problem(value)
    if why is not None:
        raise AuthServiceError(f"{what}: {why}", code="invalid_payload")
    return value


@asynccontextmanager
async def _once(deps: Deps, key: str) -> AsyncIterator[None]:
    """Act on a delivery once: its mark first, dropped again if the handling fails."""
    if not await deps.deliveries.first(key, deps.clock.now()):
        kind = key.partition(":")[0]
        log.warning("webhook.replayed", kind=kind)
        msg = "this delivery was received before and acted on; a replay changes nothing"
        raise Conflict(msg, code="replayed_delivery")
    try:
        yield
    except BaseException:
        await deps.deliveries.forget(key)
        raise


async def meta_deauthorize(deps: Deps, signed_request: str) -> list[Integration]:
    server, user_id = _meta_grant(deps, signed_request)
    async with _once(deps, f"meta:{digest(signed_request)}"):
        done = await disconnect_grant(deps, server, user_id, "deauthorized")
    log.info("meta.deauthorized", auth_server=server.value, integrations=len(done))
    return done


async def meta_data_deletion(deps: Deps, signed_request: str) -> Deletion:
    server, user_id = _meta_grant(deps, signed_request)
    async with _once(deps, f"meta:{digest(signed_request)}"):
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
    event = parse_strict(body, "the webhook body")
    if not isinstance(event, dict):
        raise AuthServiceError("the webhook body is not an object", code="invalid_body")
    if event.get("event") != "authorization.removed":
        return []  # other events (publish status) are the publisher's business
    open_id = _account_id(event.get("user_openid"), "user_openid")
    reason = f"authorization_removed:{_reason(event.get('content'))}"
    # TikTok's body carries the event's own create_time: the same event is the same body.
    async with _once(deps, f"tiktok:{digest(body.decode())}"):
        return await disconnect_grant(deps, AuthServer.TIKTOK, open_id, reason)


def _reason(content: object) -> str:
    try:
        parsed = parse_strict(content.encode()) if isinstance(content, str) else content
    except JsonRefused:
        return "unknown"
    reason = parsed.get("reason", "unknown") if isinstance(parsed, dict) else "unknown"
    usable = isinstance(reason, str | int) and not isinstance(reason, bool)
    return str(reason) if usable else "unknown"

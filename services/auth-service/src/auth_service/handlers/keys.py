"""Businesses and their API keys: create, list, revoke, authenticate, introspect, look up.

A key is shown once; only an HMAC of its secret (keyed with the server's pepper) is stored and
compared in constant time. A malformed key is refused without a database look-up. Next to the
hash, a key keeps the public half of the Ed25519 pair derived from its secret
(`herald.producerauth`): the scheduler looks it up by key id to verify signed `post.submitted`
events; no one can sign with what is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from auth_service.domain import (
    SCOPES,
    ApiKeyRecord,
    Business,
    generate_api_key,
    hash_secret,
    parse_api_key,
    secret_matches,
)
from auth_service.errors import AuthServiceError, Forbidden, NotFound, Unauthorized
from auth_service.handlers.base import Deps
from herald.producerauth import event_key

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    record: ApiKeyRecord
    key: str


async def create_business(deps: Deps, name: str, timezone: str | None = None) -> Business:
    business = Business(f"biz_{secrets.token_hex(12)}", name, deps.clock.now(), timezone)
    await deps.businesses.insert(business)
    return business


async def create_api_key(
    deps: Deps, business_id: str, name: str, scopes: list[str] | None = None
) -> IssuedKey:
    if await deps.businesses.get(business_id) is None:
        msg = f"no business {business_id}"
        raise NotFound(msg)
    chosen = sorted(set(scopes or SCOPES))
    unknown = set(chosen) - SCOPES
    if unknown:
        msg = f"unknown scopes: {', '.join(sorted(unknown))}; known: {', '.join(sorted(SCOPES))}"
        raise AuthServiceError(msg, code="unknown_scope")
    new = generate_api_key()
    record = ApiKeyRecord(
        key_id=new.key_id,
        business_id=business_id,
        name=name,
        scopes=tuple(chosen),
        secret_hash=hash_secret(new.secret, deps.policy.pepper),
        created_at=deps.clock.now(),
        event_key=event_key(new.secret),
    )
    await deps.keys.insert(record)
    return IssuedKey(record, new.full)


async def revoke_api_key(deps: Deps, key_id: str) -> ApiKeyRecord:
    record = await deps.keys.get(key_id)
    if record is None:
        msg = f"no API key {key_id}"
        raise NotFound(msg)
    await deps.keys.revoke(key_id, deps.clock.now())
    revoked = await deps.keys.get(key_id)
    return revoked or record


async def list_businesses(deps: Deps) -> list[tuple[Business, list[ApiKeyRecord]]]:
    return [(b, await deps.keys.for_business(b.id)) for b in await deps.businesses.all()]


async def introspect(deps: Deps, raw: str) -> ApiKeyRecord | None:
    """The active key `raw` is, or None (malformed, unknown, wrong secret, revoked)."""
    parsed = parse_api_key(raw.strip())
    if parsed is None:
        return None
    key_id, secret = parsed
    record = await deps.keys.get(key_id)
    if record is None or not secret_matches(secret, deps.policy.pepper, record.secret_hash):
        return None
    if not record.active:
        return None
    now = deps.clock.now()
    if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
        await deps.keys.touch(key_id, now)
    return record


async def lookup(deps: Deps, key_id: str) -> ApiKeyRecord | None:
    """The active key with this id, or None: for a signed event, whose signature the asker
    verifies with the key's `event_key` (it never sees the secret or its hash)."""
    record = await deps.keys.get(key_id)
    if record is None or not record.active:
        return None
    now = deps.clock.now()
    if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
        await deps.keys.touch(key_id, now)
    return record


async def authenticate(deps: Deps, raw: str | None, scope: str) -> ApiKeyRecord:
    """The caller's key with `scope`; 401 without a valid key, 403 without the scope."""
    if not raw:
        msg = "an API key is required: Authorization: Bearer hk_<id>_<secret>"
        raise Unauthorized(msg)
    record = await introspect(deps, raw)
    if record is None:
        msg = "the API key is not valid (unknown, malformed or revoked)"
        raise Unauthorized(msg)
    if scope not in record.scopes:
        msg = f"the API key lacks the scope {scope}"
        raise Forbidden(msg, code="missing_scope")
    return record

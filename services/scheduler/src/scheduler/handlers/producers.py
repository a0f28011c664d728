"""Who may submit posts by event: a `post.submitted` is accepted only with a signature
(`ce_heraldsig`, `herald.producerauth`) by an active API key of the business it names, holding
the `posts:write` scope, made recently (ADR 0014, docs/events.md "Signing").

The key is looked up by id through auth-service (`ApiKeys.by_id`, reused as briefly as API-key
introspection, so a revoked key stops signed events as fast as API calls); the signature is
verified here with the key's public half. Anything else is a `Refusal`: the subscriber stores it
and answers `post.rejected` with the reason, and no post is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from herald.events import Violation
from herald.producerauth import HEADER, ProducerAuthError, parse, verifies
from scheduler.ports import ApiKeys, KeyInfo

SCOPE = "posts:write"


@dataclass(frozen=True)
class Freshness:
    """How old (and how far ahead of this clock) a producer's signature may be."""

    max_age_s: float = 86_400.0
    max_ahead_s: float = 300.0


@dataclass(frozen=True)
class Refusal:
    reason: str  # "unauthenticated" (who produced it is not proven) or "forbidden"
    violation: Violation


def _unauthenticated(message: str) -> Refusal:
    violation = Violation(path=HEADER, message=message, code="unauthenticated")
    return Refusal("unauthenticated", violation)


def _forbidden(path: str, message: str) -> Refusal:
    return Refusal("forbidden", Violation(path=path, message=message, code="forbidden"))


async def check_producer(
    keys: ApiKeys,
    value: bytes,
    headers: Mapping[str, str],
    business_id: str,
    *,
    stated_business: str | None,
    now: datetime,
    freshness: Freshness,
) -> Refusal | None:
    """None when the record `value` with `headers` was signed by a key that may submit for
    `business_id` (the body's; `stated_business` is the CloudEvents `businessid` attribute, when
    given); else why not. `Unavailable` (auth-service away) propagates: try again."""
    signer = await _signer(keys, value, headers, now=now, freshness=freshness)
    if isinstance(signer, Refusal):
        return signer
    if signer.business_id != business_id:
        return _forbidden(
            "business_id",
            f"API key {signer.key_id} belongs to another business; it cannot submit for "
            f"{business_id}",
        )
    if stated_business is not None and stated_business != business_id:
        return _forbidden("businessid", "the businessid attribute names another business")
    if SCOPE not in signer.scopes:
        return _forbidden(HEADER, f"API key {signer.key_id} lacks the {SCOPE} scope")
    return None


async def _signer(
    keys: ApiKeys, value: bytes, headers: Mapping[str, str], *, now: datetime, freshness: Freshness
) -> KeyInfo | Refusal:
    """The active key that signed `value`, or why that is not proven."""
    try:
        stated = parse(headers.get(HEADER))
    except ProducerAuthError as exc:
        return _unauthenticated(str(exc))
    stale = _freshness_problem(now.timestamp() - stated.signed_at, freshness)
    if stale is not None:
        return _unauthenticated(stale)
    key = await keys.by_id(stated.key_id)
    if key is None:
        return _unauthenticated(f"API key {stated.key_id} is unknown or revoked")
    if key.event_key is None:
        return _unauthenticated(
            f"API key {stated.key_id} was issued before events could be signed; issue a new key "
            "and sign with it"
        )
    if not verifies(key.event_key, stated, value):
        return _unauthenticated(
            f"the signature does not match this message and API key {stated.key_id}"
        )
    return key


def _freshness_problem(age_s: float, freshness: Freshness) -> str | None:
    if age_s > freshness.max_age_s:
        return (
            f"the signature was made {age_s:.0f} s ago; at most {freshness.max_age_s:.0f} s old "
            "is accepted: sign when producing"
        )
    if -age_s > freshness.max_ahead_s:
        return (
            f"the signature is dated {-age_s:.0f} s ahead of the scheduler's clock; check the "
            "producer's clock"
        )
    return None

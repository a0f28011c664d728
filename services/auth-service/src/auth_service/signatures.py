"""Verifying what platforms send us (security-reliability.md §3): Meta's `signed_request`
(deauthorize and data-deletion callbacks), and its freshness: `issued_at` within a tolerance of
now (`check_fresh`), so a captured request cannot be sent again years later (a replay inside the
window is refused by its delivery mark, handlers/webhooks.py). TikTok's `TikTok-Signature`
webhook header is checked by `herald.signatures`, the checker publisher-tiktok uses too; both
raise `SignatureError`. Pure functions over raw bytes; comparisons in constant time. A payload
that verifies is read strictly (`strict_json`): what it holds must be usable (400 otherwise)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from auth_service.strict_json import parse_strict
from herald.signatures import SignatureError

__all__ = ["SignatureError", "check_fresh", "sign_request", "verify_signed_request"]


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        msg = "not base64url"
        raise SignatureError(msg) from exc


def verify_signed_request(
    signed_request: str, secrets: Iterable[str]
) -> tuple[int, dict[str, Any]]:
    """The payload of a Meta `signed_request`, and the index of the secret that signed it."""
    signature_part, sep, payload_part = signed_request.partition(".")
    if not sep or not signature_part or not payload_part or len(signed_request) > 8_192:
        msg = "malformed signed_request"
        raise SignatureError(msg)
    signature = _b64url(signature_part)
    for index, secret in enumerate(secrets):
        expected = hmac.new(secret.encode(), payload_part.encode(), hashlib.sha256).digest()
        if hmac.compare_digest(signature, expected):
            return index, _payload(payload_part)
    msg = "signed_request signature does not match"
    raise SignatureError(msg)


def _payload(part: str) -> dict[str, Any]:
    payload = parse_strict(_b64url(part), "the signed_request payload")
    if not isinstance(payload, dict) or str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        msg = "signed_request payload must say algorithm HMAC-SHA256"
        raise SignatureError(msg)
    if not payload.get("user_id"):
        msg = "signed_request payload has no user_id"
        raise SignatureError(msg)
    return payload


def check_fresh(payload: dict[str, Any], now: float, tolerance_s: float) -> None:
    """`SignatureError` unless the payload's `issued_at` (Unix seconds) is within `tolerance_s`
    of `now`, either side (clocks differ)."""
    issued = payload.get("issued_at")
    if not isinstance(issued, int) or isinstance(issued, bool):
        msg = "signed_request has no issued_at time"
        raise SignatureError(msg)
    age = int(now) - issued  # integers: an absurd issued_at cannot overflow a float
    if abs(age) > tolerance_s:
        when = f"{age} s ago" if age > 0 else f"{-age} s ahead"
        msg = f"signed_request was issued {when}, outside the {tolerance_s:g} s tolerance"
        raise SignatureError(msg)


def sign_request(payload: dict[str, Any], secret: str) -> str:
    """Meta's format, for tests and the local demo."""
    part = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    digest = hmac.new(secret.encode(), part.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=") + "." + part

"""Verifying what platforms send us (security-reliability.md §3): Meta's `signed_request`
(deauthorize and data-deletion callbacks). TikTok's `TikTok-Signature` webhook header is checked
by `herald.signatures`, the checker publisher-tiktok uses too; both raise `SignatureError`.
Pure functions over raw bytes; comparisons in constant time."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from herald.signatures import SignatureError

__all__ = ["SignatureError", "sign_request", "verify_signed_request"]


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
    try:
        payload = json.loads(_b64url(part))
    except (UnicodeDecodeError, ValueError) as exc:
        msg = "signed_request payload is not JSON"
        raise SignatureError(msg) from exc
    if not isinstance(payload, dict) or str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        msg = "signed_request payload must say algorithm HMAC-SHA256"
        raise SignatureError(msg)
    if not payload.get("user_id"):
        msg = "signed_request payload has no user_id"
        raise SignatureError(msg)
    return payload


def sign_request(payload: dict[str, Any], secret: str) -> str:
    """Meta's format, for tests and the local demo."""
    part = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    digest = hmac.new(secret.encode(), part.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=") + "." + part

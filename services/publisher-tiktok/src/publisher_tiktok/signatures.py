"""TikTok webhook signatures: `TikTok-Signature: t=<unix>,s=<hex>`, HMAC-SHA256 with the client
secret over `"{t}.{raw body}"`, and a timestamp no older than the tolerance (replays)
(security-reliability.md §3.2). Two secrets are accepted while one is rotated."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


class BadSignature(Exception):
    pass


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},s={digest.hexdigest()}"


def verify(
    header: str | None, body: bytes, secrets: Sequence[str], now: float, tolerance_s: float
) -> None:
    """Return quietly for a valid, fresh signature by one of `secrets`; else `BadSignature`."""
    if not header:
        raise BadSignature("no TikTok-Signature header")
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("s", "")
    if not stamp.isdigit() or not given:
        raise BadSignature("the signature header is malformed")
    if not any(
        hmac.compare_digest(sign(secret, body, int(stamp)).partition(",s=")[2], given)
        for secret in secrets
        if secret
    ):
        raise BadSignature("the signature does not match")
    if abs(now - int(stamp)) > tolerance_s:
        raise BadSignature("the signature is too old (or from the future)")

"""TikTok's webhook signature, checked the same way by every service that receives it.

`TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256(client secret, "<t>.<raw body>")>`
(platform-apis.md §4.4, §5.4). The HMAC is computed over the body exactly as received and
compared in constant time against every secret given: the client secret and, while it is being
rotated, the previous one. Then `t` must lie within the tolerance of now, so a captured delivery
cannot be replayed later.

publisher-tiktok checks every delivery and forwards `authorization.removed`, signature and all,
to auth-service, which checks it again (ADR 0005). Both use this one function: when only the
publisher accepted the previous secret, a rotation had auth-service refuse every forwarded
delivery the publisher had taken.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

_STAMP = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-f]{64}")
_MAX_HEADER = 512


class SignatureError(Exception):
    """Not signed by the platform: missing, malformed, signed by another secret, or too old."""


def sign_tiktok(secret: str, body: bytes, timestamp: int) -> str:
    """The header TikTok would send (for tests and the local demo)."""
    return f"t={timestamp},s={_digest(secret, str(timestamp), body)}"


def verify_tiktok(
    header: str | None, body: bytes, secrets: Sequence[str], now: float, tolerance_s: float
) -> None:
    """Return quietly for a fresh signature by one of `secrets`; else `SignatureError`.

    Empty secrets are skipped: an unset secret accepts nothing (an HMAC keyed with "" is one
    anybody can make)."""
    if isinstance(secrets, str):  # a str is a Sequence[str]: its letters would be the secrets
        msg = "secrets must be a list of secrets, not one string"
        raise TypeError(msg)
    if not header:
        raise SignatureError("missing TikTok-Signature")
    stamp, given = _parse(header)
    matched = False
    for secret in secrets:  # every secret is tried, so the time taken says nothing of which
        if secret:
            matched |= hmac.compare_digest(_digest(secret, stamp, body), given)
    if not matched:
        raise SignatureError("TikTok-Signature does not match")
    if abs(now - int(stamp)) > tolerance_s:
        raise SignatureError("TikTok-Signature timestamp is outside the tolerance")


def _parse(header: str) -> tuple[str, str]:
    """`t` (ASCII digits) and `s` (64 hex digits, lower-cased); the order of the parts and
    spaces around them do not matter, other parts are ignored."""
    parts: dict[str, str] = {}
    if len(header) <= _MAX_HEADER:
        for item in header.split(","):
            key, sep, value = item.partition("=")
            if sep:
                parts[key.strip()] = value.strip()
    stamp, given = parts.get("t", ""), parts.get("s", "").lower()
    if not _STAMP.fullmatch(stamp) or not _HEX.fullmatch(given):
        raise SignatureError("malformed TikTok-Signature")
    return stamp, given


def _digest(secret: str, stamp: str, body: bytes) -> str:
    signed = stamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()

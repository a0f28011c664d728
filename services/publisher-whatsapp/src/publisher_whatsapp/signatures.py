"""Meta's webhook checks (platform-apis.md §3.4, §5.4; security-reliability.md §3.1, §3.3).

- Deliveries carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. The
  HMAC is computed over the bytes exactly as received (Meta escapes non-ASCII and `/`; any
  re-serialisation changes them) and compared in constant time, against the current app secret
  and, during a rotation, the previous one.
- The subscription handshake is a GET with `hub.mode=subscribe`, `hub.verify_token` (ours,
  compared in constant time) and `hub.challenge`, which is echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

_HEX = re.compile(r"^[0-9a-f]{64}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class BadSignature(Exception):
    """`reason` is a metric label: missing_signature or bad_signature."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify(header: str | None, body: bytes, secrets: Sequence[str]) -> None:
    if not header:
        raise BadSignature("missing_signature")
    scheme, _, given = header.strip().partition("=")
    given = given.lower()
    if scheme.lower() != "sha256" or not _HEX.match(given) or not secrets:
        raise BadSignature("bad_signature")
    matched = False
    for secret in secrets:  # every secret is tried, so the time taken says nothing of which
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise BadSignature("bad_signature")


def handshake(mode: str | None, token: str | None, challenge: str | None, expected: str) -> str:
    """The challenge to echo; `BadSignature("handshake")` when the request is not Meta's."""
    if (
        mode != "subscribe"
        or not expected
        or token is None
        or not hmac.compare_digest(token.encode(), expected.encode())
        or challenge is None
        or not _CHALLENGE.match(challenge)
    ):
        raise BadSignature("handshake")
    return challenge

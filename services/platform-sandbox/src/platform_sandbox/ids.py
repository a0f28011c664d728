"""Identifiers in the shapes each platform uses, from counters so tests read predictable ids.

Graph ids are decimal strings in disjoint ranges per kind (so an id tells what it names, the way
real ids never collide); WhatsApp message ids look like `wamid.…`; TikTok publish ids like
`v_pub_file~v2-1.…`. Tokens and codes are random: they are secrets in every real system.
Trace ids and the random part of message ids are not secrets, so they come from a fast
non-cryptographic generator (one system call less per request on the hot path).
"""

from __future__ import annotations

import base64
import itertools
import random
import secrets

_FAST = random.Random()  # noqa: S311 - trace ids and message-id suffixes, not secrets
_BASES = {
    "user": 100_000_000_000_000,
    "page": 110_000_000_000_000,
    "business": 120_000_000_000_000,
    "waba": 102_000_000_000_000,
    "phone_number": 106_000_000_000_000,
    "system_user": 130_000_000_000_000,
    "photo": 140_000_000_000_000,
    "video": 150_000_000_000_000,
    "post": 160_000_000_000_000,
    "template": 170_000_000_000_000,
    "ig_user": 17_841_400_000_000_000,
    "ig_container": 17_900_000_000_000_000,
    "ig_media": 17_950_000_000_000_000,
    "wa_media": 4_490_000_000_000_000,
    "tiktok_video": 7_300_000_000_000_000_000,
}


class IdFactory:
    def __init__(self) -> None:
        self._counters = {kind: itertools.count(1) for kind in _BASES}
        self._seq = itertools.count(1)

    def graph(self, kind: str) -> str:
        return str(_BASES[kind] + next(self._counters[kind]))

    def post_id(self, page_id: str) -> str:
        return f"{page_id}_{self.graph('post')}"

    def wamid(self, wa_id: str) -> str:
        raw = f"{wa_id}:{next(self._seq):012d}:{_FAST.getrandbits(64):016x}".encode()
        return "wamid." + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def publish_id(self, prefix: str) -> str:
        return f"{prefix}~v2-1.{7_000_000_000_000_000_000 + next(self._seq)}"

    def tiktok_video(self) -> str:
        return self.graph("tiktok_video")

    def open_id(self) -> str:
        return "-000" + secrets.token_hex(12)

    def shortcode(self) -> str:
        return secrets.token_urlsafe(8)[:11]


def secret_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def trace_id() -> str:
    return base64.urlsafe_b64encode(_FAST.getrandbits(64).to_bytes(8, "big")).decode()[:11]

"""Who produced a `post.submitted`: a signature derived from one of the business's API keys
(docs/events.md, "Signing"; ADR 0014).

A producer holds an API key `hk_<key_id>_<secret>` with the `posts:write` scope. From the secret
it derives an Ed25519 key pair, and signs every record it produces to `post.submitted`; the
signature travels in the CloudEvents extension header `ce_heraldsig`, in binary and in structured
mode alike (it covers the record's value, so it cannot sit inside it):

    ce_heraldsig: t=<unix seconds>,keyid=<key_id>,sig=<base64url Ed25519 signature, no padding>

    seed      = HMAC-SHA256(key = UTF-8 secret, message = "herald/producer-key/v1")
    key pair  = Ed25519 from the 32-byte seed (RFC 8032)
    signed    = "herald/post.submitted/v1\\n" + key_id + "\\n" + t + "\\n" + the record's value

auth-service stores only the public key (`event_key`, base64url), next to the hash of the
secret: its database alone lets no one sign. The scheduler looks the key up by id through
auth-service (cached as briefly as API-key introspection, so a revocation stops signed events as
fast as API calls) and verifies locally. A signature binds the exact bytes: a reader of the topic
can only replay the same submission (the idempotency key answers it with the same post), and only
within the freshness window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HEADER = "ce_heraldsig"
EXTENSION = "heraldsig"
KEY_CONTEXT = b"herald/producer-key/v1"
SIGNED_CONTEXT = b"herald/post.submitted/v1"
_API_KEY = re.compile(r"^hk_(?P<id>[a-f0-9]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")
HEADER_PATTERN = r"^t=[0-9]{1,12},keyid=[a-f0-9]{16},sig=[A-Za-z0-9_-]{86}$"
_HEADER = re.compile(
    r"^t=(?P<t>[0-9]{1,12}),keyid=(?P<id>[a-f0-9]{16}),sig=(?P<sig>[A-Za-z0-9_-]{86})$"
)
_MAX_HEADER = 256


class ProducerAuthError(Exception):
    """A `ce_heraldsig` that cannot be checked (missing or malformed), or an unusable API key."""


@dataclass(frozen=True)
class ProducerSignature:
    key_id: str
    signed_at: int  # unix seconds, as the producer stated it (covered by the signature)
    signature: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _split(api_key: str) -> tuple[str, str]:
    match = _API_KEY.match(api_key.strip())
    if match is None:
        msg = "an API key looks like hk_<16 hex>_<43 characters>"
        raise ProducerAuthError(msg)
    return match["id"], match["secret"]


def _private(secret: str) -> Ed25519PrivateKey:
    seed = hmac.new(secret.encode(), KEY_CONTEXT, hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def event_key(secret: str) -> str:
    """The public key (base64url, 32 bytes raw) of the pair derived from an API key's secret:
    what auth-service stores when it issues the key."""
    public = _private(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _b64(public)


def _message(key_id: str, signed_at: int, value: bytes) -> bytes:
    return b"\n".join((SIGNED_CONTEXT, key_id.encode(), str(signed_at).encode(), value))


def sign(api_key: str, value: bytes, *, now: float | None = None) -> str:
    """The `ce_heraldsig` header value for a record whose value is `value`."""
    key_id, secret = _split(api_key)
    signed_at = int(time.time() if now is None else now)
    signature = _private(secret).sign(_message(key_id, signed_at, value))
    return f"t={signed_at},keyid={key_id},sig={_b64(signature)}"


def parse(header: str | None) -> ProducerSignature:
    """The signature a header states, or `ProducerAuthError` naming what is wrong with it."""
    if not header:
        msg = f"no {HEADER} header: sign post.submitted with an API key (docs/events.md)"
        raise ProducerAuthError(msg)
    match = _HEADER.match(header.strip()) if len(header) <= _MAX_HEADER else None
    if match is None:
        msg = f"{HEADER} must read t=<unix seconds>,keyid=<16 hex>,sig=<86 base64url characters>"
        raise ProducerAuthError(msg)
    try:
        signature = _unb64(match["sig"])
    except (binascii.Error, ValueError) as exc:
        msg = f"{HEADER}: sig is not base64url"
        raise ProducerAuthError(msg) from exc
    return ProducerSignature(match["id"], int(match["t"]), signature)


def verifies(public_key: str, stated: ProducerSignature, value: bytes) -> bool:
    """Whether `stated` is a signature of `value` by the key whose public half is `public_key`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(_unb64(public_key))
        key.verify(stated.signature, _message(stated.key_id, stated.signed_at, value))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True

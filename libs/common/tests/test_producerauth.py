"""`herald.producerauth`: the key pair derived from an API key, the header, and what verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from herald.producerauth import (
    HEADER,
    ProducerAuthError,
    event_key,
    parse,
    sign,
    verifies,
)

pytestmark = pytest.mark.unit

SECRET = "A" * 43
KEY = f"hk_0123456789abcdef_{SECRET}"
OTHER = f"hk_fedcba9876543210_{'B' * 43}"
VALUE = b'{"business_id": "biz_1", "idempotency_key": "k1"}'
NOW = 1_790_000_000


def test_a_signature_verifies_with_the_public_key_auth_service_stores() -> None:
    stated = parse(sign(KEY, VALUE, now=NOW))
    assert stated.key_id == "0123456789abcdef"
    assert stated.signed_at == NOW
    assert verifies(event_key(SECRET), stated, VALUE)


def test_the_derivation_is_the_documented_one() -> None:
    """What a producer in another language implements (docs/events.md): seed, pair, message."""
    seed = hmac.new(SECRET.encode(), b"herald/producer-key/v1", hashlib.sha256).digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    message = b"herald/post.submitted/v1\n0123456789abcdef\n" + str(NOW).encode() + b"\n" + VALUE
    signature = base64.urlsafe_b64encode(private.sign(message)).decode().rstrip("=")
    assert sign(KEY, VALUE, now=NOW) == f"t={NOW},keyid=0123456789abcdef,sig={signature}"


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v + b" ",
        lambda v: v.replace(b"biz_1", b"biz_2"),
        lambda v: b"",
    ],
    ids=["appended", "another business", "emptied"],
)
def test_a_changed_value_does_not_verify(change: Callable[[bytes], bytes]) -> None:
    stated = parse(sign(KEY, VALUE, now=NOW))
    assert not verifies(event_key(SECRET), stated, change(VALUE))


def test_another_keys_signature_or_a_changed_time_does_not_verify() -> None:
    by_other = parse(sign(OTHER, VALUE, now=NOW))
    assert not verifies(event_key(SECRET), by_other, VALUE)
    header = sign(KEY, VALUE, now=NOW).replace(f"t={NOW}", f"t={NOW + 3600}")
    assert not verifies(event_key(SECRET), parse(header), VALUE)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "keyid=0123456789abcdef,sig=abc",
        f"t={NOW},keyid=0123456789ABCDEF,sig={'a' * 86}",
        f"t={NOW},keyid=0123456789abcdef,sig={'a' * 85}",
        f"t=-1,keyid=0123456789abcdef,sig={'a' * 86}",
        f"t={NOW},keyid=0123456789abcdef,sig={'a' * 86},extra=1",
        "x" * 10_000,
    ],
)
def test_a_malformed_header_is_refused_with_its_name(header: str | None) -> None:
    with pytest.raises(ProducerAuthError, match=HEADER):
        parse(header)


def test_a_malformed_api_key_cannot_sign() -> None:
    with pytest.raises(ProducerAuthError, match="hk_"):
        sign("hk_short_secret", VALUE)


@given(st.text(max_size=300))
def test_parse_never_raises_anything_else(header: str) -> None:
    try:
        stated = parse(header)
    except ProducerAuthError:
        return
    assert not verifies(event_key(SECRET), stated, VALUE)


def test_a_public_key_that_is_not_one_does_not_verify() -> None:
    stated = parse(sign(KEY, VALUE, now=NOW))
    assert not verifies("not-a-key", stated, VALUE)
    assert not verifies("", stated, VALUE)

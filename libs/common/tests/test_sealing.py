"""`herald.sealing`: what a keyring seals opens only with its key and in its context; rotation."""

from __future__ import annotations

import base64
import os

import pytest

from herald.sealing import Envelope, Keyring, SealError, decode_key, keyring_problems

pytestmark = pytest.mark.unit

OLD, NEW = os.urandom(32), os.urandom(32)


def test_sealed_text_opens_in_its_context_only_and_holds_no_plaintext() -> None:
    ring = Keyring({"k1": OLD}, "k1")
    sealed = ring.seal("whsec_plain", "endpoint:ep_1")
    assert sealed.kid == "k1"
    assert "whsec_plain" not in str(sealed.doc())
    assert ring.open(Envelope.of(sealed.doc()), "endpoint:ep_1") == "whsec_plain"
    with pytest.raises(SealError, match="does not open in this context"):
        ring.open(sealed, "endpoint:ep_2")
    assert ring.seal("whsec_plain", "endpoint:ep_1").nonce != sealed.nonce


def test_a_rotated_keyring_opens_old_envelopes_and_seals_under_the_new_key() -> None:
    old = Keyring({"k1": OLD}, "k1").seal("s", "c")
    rotated = Keyring({"k1": OLD, "k2": NEW}, "k2")
    assert rotated.open(old, "c") == "s"
    assert rotated.seal("s", "c").kid == "k2"
    with pytest.raises(SealError, match="no key 'k1'"):
        Keyring({"k2": NEW}, "k2").open(old, "c")


def test_tampered_or_malformed_envelopes_are_refused() -> None:
    ring = Keyring({"k1": OLD}, "k1")
    sealed = ring.seal("s", "c")
    flipped = base64.b64decode(sealed.ct)
    tampered = Envelope(1, "k1", sealed.nonce, base64.b64encode(b"x" + flipped[1:]).decode())
    for bad in (tampered, Envelope(2, "k1", sealed.nonce, sealed.ct)):
        with pytest.raises(SealError):
            ring.open(bad, "c")
    with pytest.raises(SealError, match="not a sealed envelope"):
        Envelope.of({"value": "s"})


def test_keyring_problems_name_the_setting() -> None:
    good = base64.b64encode(OLD).decode()
    assert decode_key(good) == OLD
    assert keyring_problems({"k1": good}, "k1", "X") == []
    problems = keyring_problems(
        {"k1": "short", "k2": base64.b64encode(b"a" * 32).decode()}, "k3", "X"
    )
    assert problems == [
        "X__KEYS[k1]: is not base64 of exactly 32 bytes",
        "X__KEYS[k2]: looks like a placeholder (low entropy)",
        "X__PRIMARY_KID: 'k3' is not one of the keys",
    ]


def test_a_keyring_of_another_domain_does_not_open_the_envelope() -> None:
    # auth-service's vault seals under `herald-vault`: its tokens never open as sealed secrets.
    sealed = Keyring({"k1": OLD}, "k1", domain="herald-vault").seal("token", "c")
    assert Keyring({"k1": OLD}, "k1", domain="herald-vault").open(sealed, "c") == "token"
    with pytest.raises(SealError, match="does not open in this context"):
        Keyring({"k1": OLD}, "k1").open(sealed, "c")

"""The vault: AES-256-GCM envelopes bound to business, integration and field."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from auth_service.domain import Sealed, SecretField
from auth_service.vault import SealContext, Vault, VaultError

pytestmark = pytest.mark.unit

K1, K2 = os.urandom(32), os.urandom(32)
HERE = SealContext("biz_a", "int_1", SecretField.ACCESS)


def test_round_trip_and_envelope_shape() -> None:
    vault = Vault({"k1": K1}, "k1")
    sealed = vault.seal("EAAB-secret-token", HERE)
    assert sealed.v == 1
    assert sealed.kid == "k1"
    assert "EAAB" not in sealed.ct
    assert vault.open(sealed, HERE) == "EAAB-secret-token"


def test_every_seal_uses_a_fresh_nonce() -> None:
    vault = Vault({"k1": K1}, "k1")
    nonces = {vault.seal("same", HERE).nonce for _ in range(200)}
    assert len(nonces) == 200


@pytest.mark.parametrize(
    "elsewhere",
    [
        SealContext("biz_a", "int_2", SecretField.ACCESS),  # another integration
        SealContext("biz_a", "int_1", SecretField.REFRESH),  # another field
        SealContext("biz_b", "int_1", SecretField.ACCESS),  # another business
    ],
)
def test_a_ciphertext_moved_elsewhere_does_not_open(elsewhere: SealContext) -> None:
    vault = Vault({"k1": K1}, "k1")
    sealed = vault.seal("token", HERE)
    with pytest.raises(VaultError):
        vault.open(sealed, elsewhere)


def test_tampered_or_unknown_key_does_not_open() -> None:
    vault = Vault({"k1": K1}, "k1")
    sealed = vault.seal("token", HERE)
    flipped = sealed.ct[:-2] + ("A" if sealed.ct[-2] != "A" else "B") + sealed.ct[-1]
    with pytest.raises(VaultError):
        vault.open(replace(sealed, ct=flipped), HERE)
    with pytest.raises(VaultError):
        vault.open(replace(sealed, kid="k9"), HERE)
    with pytest.raises(VaultError):
        vault.open(replace(sealed, nonce="not base64!"), HERE)
    with pytest.raises(VaultError):
        vault.open(replace(sealed, v=2), HERE)
    with pytest.raises(VaultError):
        Vault({"k1": K2}, "k1").open(sealed, HERE)


def test_rewrap_moves_a_record_to_the_primary_key() -> None:
    old = Vault({"k1": K1}, "k1")
    sealed = old.seal("token", HERE)
    new = Vault({"k1": K1, "k2": K2}, "k2")
    assert new.needs_rewrap(sealed)
    moved = new.rewrap(sealed, HERE)
    assert moved.kid == "k2"
    assert not new.needs_rewrap(moved)
    assert Vault({"k2": K2}, "k2").open(moved, HERE) == "token"


def test_keyring_must_hold_32_byte_keys_and_its_primary() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Vault({"k1": b"short"}, "k1")
    with pytest.raises(ValueError, match="primary"):
        Vault({"k1": K1}, "k2")


# Records sealed by the vault before it used herald.sealing (commit 821165b), with fixed keys: the
# stored format must keep opening after any change to how the vault seals, or every connected
# integration would need reconnecting.
FIXED_K1, FIXED_K2 = bytes(range(32)), bytes(range(100, 132))
FIXTURE = SealContext("biz_fixture", "int_fixture", SecretField.ACCESS)
FIXTURE_SEALED = Sealed(
    1, "k2025", "TwijZ9/TRB8HwAan", "PEHmluikkO+PGCBuccbmwxVLwU3FhlicJiMhXXb60BSJUdEuBr4ng0k="
)
FIXTURE_REFRESH = SealContext("biz_fixture", "int_fixture", SecretField.REFRESH)
FIXTURE_REFRESH_SEALED = Sealed(
    1, "k2026", "F3Acc92oxZak0jaI", "vtaz3Ovxfqiv9wxNHMhun8FadywQZVtaN06w1HMsR5dxkFU2yw=="
)


def test_records_sealed_by_earlier_code_still_open_and_rotate() -> None:
    vault = Vault({"k2025": FIXED_K1, "k2026": FIXED_K2}, "k2026")
    assert vault.open(FIXTURE_SEALED, FIXTURE) == "EAAB-fixture-access-token"
    assert vault.open(FIXTURE_REFRESH_SEALED, FIXTURE_REFRESH) == "fixture-refresh-token"
    with pytest.raises(VaultError):  # still bound to its field
        vault.open(FIXTURE_SEALED, FIXTURE_REFRESH)
    assert vault.needs_rewrap(FIXTURE_SEALED)
    assert not vault.needs_rewrap(FIXTURE_REFRESH_SEALED)
    moved = vault.rewrap(FIXTURE_SEALED, FIXTURE)
    assert moved.kid == "k2026"
    assert Vault({"k2026": FIXED_K2}, "k2026").open(moved, FIXTURE) == "EAAB-fixture-access-token"

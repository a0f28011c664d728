"""The token vault: one AES-256-GCM envelope `{v, kid, nonce, ct}` per field, under a keyring.

The cryptography is `herald.sealing`'s (the scheduler seals its webhook secrets with it too);
this module binds an envelope to its business, integration and field, so a ciphertext copied
onto another record or field fails to open (security-reliability.md §2.5). Its associated data
starts `herald-vault`, as it did before the vault used herald.sealing, so stored tokens keep
opening (tests/test_vault.py holds records sealed by the earlier code). Every record names its
key id, so a rotation re-encrypts under the primary key while older keys still decrypt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from auth_service.domain import Sealed, SecretField
from herald.sealing import VERSION, Envelope, Keyring, SealError

AAD_DOMAIN = "herald-vault"


class VaultError(Exception):
    """A record that cannot be opened: unknown key id, wrong context, or tampered bytes."""


@dataclass(frozen=True)
class SealContext:
    business_id: str
    integration_id: str
    field: SecretField

    def context(self) -> str:
        """What the envelope is bound to (after `herald-vault|v1|` in the associated data)."""
        return "|".join((self.business_id, self.integration_id, self.field))


class Vault:
    def __init__(self, keys: Mapping[str, bytes], primary_kid: str) -> None:
        self._keyring = Keyring(keys, primary_kid, domain=AAD_DOMAIN)
        self.primary_kid = primary_kid
        self.sealed_by_kid: Counter[str] = Counter()

    def seal(self, plaintext: str, context: SealContext) -> Sealed:
        envelope = self._keyring.seal(plaintext, context.context())
        self.sealed_by_kid[envelope.kid] += 1
        return Sealed(envelope.v, envelope.kid, envelope.nonce, envelope.ct)

    def open(self, sealed: Sealed, context: SealContext) -> str:
        if sealed.v != VERSION:
            msg = f"unsupported vault record version {sealed.v}"
            raise VaultError(msg)
        envelope = Envelope(sealed.v, sealed.kid, sealed.nonce, sealed.ct)
        try:
            return self._keyring.open(envelope, context.context())
        except SealError as exc:  # unknown key, wrong context (a record moved), tampered bytes
            raise VaultError(str(exc)) from exc

    def needs_rewrap(self, sealed: Sealed) -> bool:
        return sealed.kid != self.primary_kid

    def rewrap(self, sealed: Sealed, context: SealContext) -> Sealed:
        """The same plaintext sealed again under the primary key (same context)."""
        return self.seal(self.open(sealed, context), context)

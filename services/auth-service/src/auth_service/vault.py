"""The token vault: AES-256-GCM with a keyring, one envelope `{v, kid, nonce, ct}` per field.

The associated data binds a ciphertext to its business, integration and field, so a ciphertext
copied onto another record or field fails to open (security-reliability.md §2.5). Every record
names its key id, so a rotation re-encrypts under the primary key while older keys still
decrypt. Nonces are 96 random bits per encryption; never reused with a key.
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from auth_service.domain import Sealed, SecretField

VERSION = 1
NONCE_BYTES = 12


class VaultError(Exception):
    """A record that cannot be opened: unknown key id, wrong context, or tampered bytes."""


@dataclass(frozen=True)
class SealContext:
    business_id: str
    integration_id: str
    field: SecretField

    def aad(self) -> bytes:
        return "|".join(
            ("herald-vault", f"v{VERSION}", self.business_id, self.integration_id, self.field)
        ).encode()


class Vault:
    def __init__(self, keys: Mapping[str, bytes], primary_kid: str) -> None:
        if primary_kid not in keys:
            msg = f"the primary key id {primary_kid!r} is not in the keyring"
            raise ValueError(msg)
        bad = [kid for kid, key in keys.items() if len(key) != 32]
        if bad:
            msg = f"keys must be 32 bytes (AES-256): {', '.join(bad)}"
            raise ValueError(msg)
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.primary_kid = primary_kid
        self.sealed_by_kid: Counter[str] = Counter()

    def seal(self, plaintext: str, context: SealContext) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        ct = self._ciphers[self.primary_kid].encrypt(nonce, plaintext.encode(), context.aad())
        self.sealed_by_kid[self.primary_kid] += 1
        return Sealed(VERSION, self.primary_kid, _b64(nonce), _b64(ct))

    def open(self, sealed: Sealed, context: SealContext) -> str:
        if sealed.v != VERSION:
            msg = f"unsupported vault record version {sealed.v}"
            raise VaultError(msg)
        cipher = self._ciphers.get(sealed.kid)
        if cipher is None:
            msg = f"no key {sealed.kid!r} in the keyring"
            raise VaultError(msg)
        try:
            plain = cipher.decrypt(_unb64(sealed.nonce), _unb64(sealed.ct), context.aad())
        except (InvalidTag, ValueError) as exc:
            # Wrong key, wrong context (a record moved elsewhere) or tampered bytes.
            msg = f"record under key {sealed.kid!r} does not open in this context"
            raise VaultError(msg) from exc
        return plain.decode()

    def needs_rewrap(self, sealed: Sealed) -> bool:
        return sealed.kid != self.primary_kid

    def rewrap(self, sealed: Sealed, context: SealContext) -> Sealed:
        """The same plaintext sealed again under the primary key (same context)."""
        return self.seal(self.open(sealed, context), context)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        msg = "vault record is not valid base64"
        raise VaultError(msg) from exc

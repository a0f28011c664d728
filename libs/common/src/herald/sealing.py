"""Secrets sealed at rest: AES-256-GCM under a keyring, one envelope `{v, kid, nonce, ct}` each.

The same construction as auth-service's token vault (security-reliability.md §2.5), for a
service that stores a secret it must read back (the scheduler's webhook signing secrets,
ADR 0021). The associated data names what the secret belongs to, so a ciphertext copied onto
another record fails to open. Every envelope names its key id: a rotation adds a key and makes
it primary, older keys keep opening until everything is sealed again under the primary one.
Nonces are 96 random bits per sealing, never reused with a key.

Keys are given as base64 of 32 random bytes (`python -c 'import base64, secrets;
print(base64.b64encode(secrets.token_bytes(32)).decode())'`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32


class SealError(Exception):
    """An envelope that does not open: unknown key id, wrong context, or tampered bytes."""


@dataclass(frozen=True)
class Envelope:
    v: int
    kid: str
    nonce: str  # base64
    ct: str  # base64: ciphertext and GCM tag

    def doc(self) -> dict[str, Any]:
        return {"v": self.v, "kid": self.kid, "nonce": self.nonce, "ct": self.ct}

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Envelope:
        try:
            return cls(int(doc["v"]), str(doc["kid"]), str(doc["nonce"]), str(doc["ct"]))
        except (KeyError, TypeError, ValueError) as exc:
            msg = "not a sealed envelope ({v, kid, nonce, ct})"
            raise SealError(msg) from exc


def decode_key(value: str) -> bytes | None:
    """The 32 raw bytes of a base64 key, or None when it is not one."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def keyring_problems(keys: Mapping[str, str], primary_kid: str | None, name: str) -> list[str]:
    """What makes a keyring unusable, each naming the setting `name` (`…__KEYS`/`…__PRIMARY_KID`):
    a key that is not base64 of 32 bytes or has too little entropy, a primary not in the ring."""
    problems = []
    for kid, value in keys.items():
        raw = decode_key(value)
        if raw is None:
            problems.append(f"{name}__KEYS[{kid}]: is not base64 of exactly {KEY_BYTES} bytes")
        elif len(set(raw)) < 16:
            problems.append(f"{name}__KEYS[{kid}]: looks like a placeholder (low entropy)")
    if keys and primary_kid is not None and primary_kid not in keys:
        problems.append(f"{name}__PRIMARY_KID: {primary_kid!r} is not one of the keys")
    if len(keys) > 1 and primary_kid is None:
        problems.append(f"{name}__PRIMARY_KID: is missing (several keys: name the one to seal)")
    return problems


def deployment_problems(
    keys: Mapping[str, str],
    primary_kid: str | None,
    name: str,
    *,
    development_key: str,
    sealed: str,
    production: bool,
    environment_variable: str,
    host: str,
) -> list[str]:
    """`keyring_problems`, and, in production or when the server listens beyond loopback, no
    key or the public `development_key` (which a local run on loopback may use: only this
    machine reaches it). `sealed` says what the keys seal, for the message."""
    problems = keyring_problems(keys, primary_kid, name)
    if production or not is_loopback_host(host):
        where = (
            f"({environment_variable} is production)"
            if production
            else f"(the server listens on {host}, not loopback only)"
        )
        if not keys:
            problems.append(
                f"{name}__KEYS: is missing, so the public development key would seal {sealed} "
                f"{where}; set a JSON object of key id -> base64 of 32 random bytes"
            )
        problems += [
            f"{name}__KEYS[{kid}]: is the public development key {where}"
            for kid, value in keys.items()
            if value == development_key
        ]
    return problems


def is_loopback_host(host: str) -> bool:
    """Whether a server listening on `host` is reachable from this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# What the associated data of an envelope starts with, unless a keyring is given its own.
DEFAULT_DOMAIN = "herald-sealed"


class Keyring:
    """Seals and opens envelopes. `domain` starts the associated data, so envelopes of one use
    never open as another's; auth-service's vault keeps `herald-vault`, which its stored tokens
    were sealed under before it used this module."""

    def __init__(
        self, keys: Mapping[str, bytes], primary_kid: str, *, domain: str = DEFAULT_DOMAIN
    ) -> None:
        if primary_kid not in keys:
            msg = f"the primary key id {primary_kid!r} is not in the keyring"
            raise ValueError(msg)
        bad = [kid for kid, key in keys.items() if len(key) != KEY_BYTES]
        if bad:
            msg = f"keys must be {KEY_BYTES} bytes (AES-256): {', '.join(bad)}"
            raise ValueError(msg)
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.primary_kid = primary_kid
        self._domain = domain

    def seal(self, plaintext: str, context: str) -> Envelope:
        nonce = os.urandom(NONCE_BYTES)
        ct = self._ciphers[self.primary_kid].encrypt(nonce, plaintext.encode(), self._aad(context))
        return Envelope(VERSION, self.primary_kid, _b64(nonce), _b64(ct))

    def open(self, envelope: Envelope, context: str) -> str:
        if envelope.v != VERSION:
            msg = f"unsupported envelope version {envelope.v}"
            raise SealError(msg)
        cipher = self._ciphers.get(envelope.kid)
        if cipher is None:
            msg = f"no key {envelope.kid!r} in the keyring"
            raise SealError(msg)
        try:
            plain = cipher.decrypt(_unb64(envelope.nonce), _unb64(envelope.ct), self._aad(context))
        except (InvalidTag, ValueError) as exc:  # wrong key or context, tampered, bad nonce
            msg = f"envelope under key {envelope.kid!r} does not open in this context"
            raise SealError(msg) from exc
        return plain.decode()

    def _aad(self, context: str) -> bytes:
        return f"{self._domain}|v{VERSION}|{context}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        msg = "envelope is not valid base64"
        raise SealError(msg) from exc

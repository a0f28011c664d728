"""Password hashing with argon2id (`argon2-cffi`, the reference implementation's binding;
ADR 0024). Hashing takes tens of milliseconds and 64 MiB by design, so it runs in a worker
thread and the event loop keeps serving."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Passwords:
    """RFC 9106's second recommended option (argon2id, t=3, 64 MiB, p=4): argon2-cffi's
    default, so an upgrade of the library that raises it also re-tunes these hashes."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

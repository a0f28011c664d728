"""The local stack's own secrets: service tokens, the admin token, the vault key, the API-key
pepper, the scheduler's key sealing webhook secrets and the console's key sealing its session
cookies, made once per run folder (auth-service
and the scheduler refuse their public development defaults outside local runs; here each
installation has its own).

They are random (not fixed strings in the repository) so a local stack behaves like a deployed
one: each caller of auth-service's internal API has its own credential. Stored in
`.run/secrets.json`, readable by the owner only.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from herald.topics import Platform

CALLERS = ("scheduler", *(f"publisher-{platform}" for platform in Platform))


@dataclass(frozen=True)
class StackSecrets:
    service_tokens: dict[str, str]
    admin_token: str
    whatsapp_verify_token: str
    vault_key: str  # base64 of 32 random bytes: the local vault's AES-256 key
    api_key_pepper: str  # keys API key hashes: kept, or every stored key stops working
    webhook_key: str  # base64 of 32 random bytes: seals the scheduler's webhook secrets (kept)
    console_key: str  # base64 of 32 random bytes: seals the console's session cookies (kept)

    @classmethod
    def load_or_create(cls, run_dir: Path) -> StackSecrets:
        """Keep what exists (a new vault or webhook key would orphan what it sealed); add what is
        missing."""
        path = run_dir / "secrets.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        fresh = {
            "service_tokens": {name: secrets.token_urlsafe(32) for name in CALLERS},
            "admin_token": secrets.token_urlsafe(32),
            "whatsapp_verify_token": secrets.token_urlsafe(16),
            "vault_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            "api_key_pepper": secrets.token_hex(32),
            "webhook_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            # Kept, so a restarted stack's console still opens the cookies it sealed.
            "console_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        if set(data.get("service_tokens", {})) != set(CALLERS):
            data.pop("service_tokens", None)
        merged = {**fresh, **{k: v for k, v in data.items() if k in fresh}}
        if merged != data:
            run_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".tmp")
            partial.write_text(json.dumps(merged, indent=2))
            os.chmod(partial, 0o600)
            partial.replace(path)
        return cls(**merged)

"""Integration and key documents as MongoDB stores them, and back.

Tokens are stored only as vault envelopes under `secrets.<field>`; nothing here sees plaintext.
"""

from __future__ import annotations

from datetime import datetime

from auth_service.domain import (
    ApiKeyRecord,
    AuthServer,
    Business,
    Integration,
    OAuthState,
    RefreshMode,
    Sealed,
    SecretField,
)
from herald.events import IntegrationStatus
from herald.mongo import Document
from herald.topics import Platform


def sealed_doc(sealed: Sealed) -> Document:
    return {"v": sealed.v, "kid": sealed.kid, "nonce": sealed.nonce, "ct": sealed.ct}


def sealed_from(doc: Document) -> Sealed:
    return Sealed(int(doc["v"]), str(doc["kid"]), str(doc["nonce"]), str(doc["ct"]))


_TIMES = (
    "expires_at",
    "refresh_expires_at",
    "user_expires_at",
    "last_used_at",
    "last_refresh_at",
    "last_checked_at",
    "next_attempt_at",
    "disconnected_at",
)


def integration_doc(integration: Integration) -> Document:
    doc: Document = {
        "_id": integration.id,
        "business_id": integration.business_id,
        "platform": integration.platform.value,
        "account_id": integration.account_id,
        "account_name": integration.account_name,
        "account": dict(integration.account),
        "scopes": list(integration.scopes),
        "status": integration.status.value,
        "mode": integration.mode.value,
        "auth_server": integration.auth_server.value,
        "provider_user_id": integration.provider_user_id,
        "secrets": {f.value: sealed_doc(s) for f, s in integration.secrets.items()},
        "connected_at": integration.connected_at,
        "version": integration.version,
        "last_error": integration.last_error,
        "refresh_failures": integration.refresh_failures,
        "reason": integration.reason,
        "extra": dict(integration.extra),
    }
    for name in _TIMES:
        if name != "last_used_at":  # kept in integration_usage (see mongo.py)
            doc[name] = getattr(integration, name)
    return doc


def _time(doc: Document, name: str) -> datetime | None:
    value = doc.get(name)
    return value if isinstance(value, datetime) else None


def integration_from(doc: Document) -> Integration:
    secrets = doc.get("secrets") or {}
    return Integration(
        id=str(doc["_id"]),
        business_id=str(doc["business_id"]),
        platform=Platform(doc["platform"]),
        account_id=str(doc["account_id"]),
        account_name=doc.get("account_name"),
        account={str(k): str(v) for k, v in (doc.get("account") or {}).items()},
        scopes=tuple(doc.get("scopes") or ()),
        status=IntegrationStatus(doc["status"]),
        mode=RefreshMode(doc["mode"]),
        auth_server=AuthServer(doc["auth_server"]),
        provider_user_id=doc.get("provider_user_id"),
        secrets={SecretField(k): sealed_from(v) for k, v in secrets.items()},
        connected_at=doc["connected_at"],
        version=int(doc.get("version", 0)),
        last_error=doc.get("last_error"),
        refresh_failures=int(doc.get("refresh_failures", 0)),
        reason=doc.get("reason"),
        extra={str(k): str(v) for k, v in (doc.get("extra") or {}).items()},
        expires_at=_time(doc, "expires_at"),
        refresh_expires_at=_time(doc, "refresh_expires_at"),
        user_expires_at=_time(doc, "user_expires_at"),
        last_used_at=_time(doc, "last_used_at"),
        last_refresh_at=_time(doc, "last_refresh_at"),
        last_checked_at=_time(doc, "last_checked_at"),
        next_attempt_at=_time(doc, "next_attempt_at"),
        disconnected_at=_time(doc, "disconnected_at"),
    )


def business_doc(business: Business) -> Document:
    return {
        "_id": business.id,
        "name": business.name,
        "created_at": business.created_at,
        "timezone": business.timezone,
    }


def business_from(doc: Document) -> Business:
    zone = doc.get("timezone")  # absent in documents written before businesses had one
    return Business(str(doc["_id"]), str(doc["name"]), doc["created_at"], zone and str(zone))


def key_doc(key: ApiKeyRecord) -> Document:
    return {
        "_id": key.key_id,
        "business_id": key.business_id,
        "name": key.name,
        "scopes": list(key.scopes),
        "secret_hash": key.secret_hash,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
        "event_key": key.event_key,
    }


def key_from(doc: Document) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=str(doc["_id"]),
        business_id=str(doc["business_id"]),
        name=str(doc.get("name", "")),
        scopes=tuple(doc.get("scopes") or ()),
        secret_hash=str(doc["secret_hash"]),
        created_at=doc["created_at"],
        revoked_at=_time(doc, "revoked_at"),
        last_used_at=_time(doc, "last_used_at"),
        event_key=str(doc["event_key"]) if doc.get("event_key") else None,
    )


def state_doc(state: OAuthState) -> Document:
    return {
        "_id": state.state_hash,
        "business_id": state.business_id,
        "provider": state.provider.value,
        "auth_server": state.auth_server.value,
        "redirect_uri": state.redirect_uri,
        "created_at": state.created_at,
        "expires_at": state.expires_at,
        "verifier": sealed_doc(state.verifier) if state.verifier else None,
        "return_to": state.return_to,
    }


def state_from(doc: Document) -> OAuthState:
    return OAuthState(
        state_hash=str(doc["_id"]),
        business_id=str(doc["business_id"]),
        provider=Platform(doc["provider"]),
        auth_server=AuthServer(doc["auth_server"]),
        redirect_uri=str(doc["redirect_uri"]),
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        verifier=sealed_from(doc["verifier"]) if isinstance(doc.get("verifier"), dict) else None,
        return_to=str(doc["return_to"]) if doc.get("return_to") else None,
    )

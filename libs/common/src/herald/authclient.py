"""The client other services use to ask auth-service (its `/internal/v1` API).

    client = AuthClient(http, base_url="http://127.0.0.1:8101", service_token=token)
    key = await client.introspect("hk_...")            # KeyIntrospection (cached 0.5 s)
    key = await client.lookup_key("0123456789abcdef")  # the same by key id, with its event key
    info = await client.get_integration(iid, business)  # IntegrationInfo
    token = await client.get_token(iid, business)       # AccessToken, cached until near expiry
    token = await client.force_refresh(iid, business)   # after the platform refused the token

Errors are classified into `herald.errors`: 409 `needs_reauth` → `NeedsReauth`; 5xx, 429 and
transport failures → `Transient` / `Throttled`; 404 → `IntegrationNotFound`; 401/403 →
`AuthServiceRejected` (this service's credentials are wrong: a configuration problem).
The access token is a `SecretStr`, so it is masked wherever a model is printed or logged.

Key answers are reused for `introspection_ttl_s` (0.5 s by default), counted from the moment the
question was asked, so a revoked key is refused at most that long after auth-service revoked it
(ADR 0014); concurrent questions about one key share one call.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import AwareDatetime, BaseModel, SecretStr, ValidationError

from herald.errors import HeraldError, NeedsReauth, Throttled, Transient
from herald.events import IntegrationStatus
from herald.topics import Platform
from herald.whatsapp_registry import RegisteredTemplate

M = TypeVar("M", bound=BaseModel)


class AuthClientError(HeraldError):
    """auth-service answered something this client cannot use."""


class IntegrationNotFound(AuthClientError):
    """No such integration for that business (or it belongs to another business)."""


class AuthServiceRejected(AuthClientError):
    """auth-service refused this service's credentials or role (401/403)."""


class KeyIntrospection(BaseModel):
    active: bool
    business_id: str | None = None
    key_id: str | None = None
    scopes: list[str] = []
    # The public half of the key's event-signing pair (herald.producerauth); lookups only.
    event_key: str | None = None


class IntegrationInfo(BaseModel):
    integration_id: str
    business_id: str
    platform: Platform
    account_id: str
    account_name: str | None
    status: IntegrationStatus
    expires_at: AwareDatetime | None
    scopes: list[str]


class TemplateList(BaseModel):
    templates: list[RegisteredTemplate]


class AccessToken(BaseModel):
    access_token: SecretStr
    token_type: str
    expires_at: AwareDatetime | None
    platform: Platform
    account_id: str
    account: dict[str, str]
    scopes: list[str]


@dataclass
class _Cached:
    value: Any
    until: float


MAX_CACHED_KEYS = 10_000  # distinct keys remembered; unknown keys must not grow it without end


class AuthClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        service_token: str,
        *,
        token_margin_s: float = 60.0,
        max_token_cache_s: float = 300.0,
        introspection_ttl_s: float = 0.5,
        inactive_ttl_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {service_token}"}
        self._margin = token_margin_s
        self._max_cache = max_token_cache_s
        self._introspection_ttl = introspection_ttl_s
        self._inactive_ttl = inactive_ttl_s
        self._clock = clock
        self._tokens: dict[tuple[str, str], _Cached] = {}
        self._keys: dict[tuple[str, str], _Cached] = {}
        self._asking: dict[tuple[str, str], asyncio.Future[KeyIntrospection]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def introspect(self, key: str) -> KeyIntrospection:
        """What auth-service says of an API key (remembered under its digest, not itself)."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        return await self._key_answer(("key", digest), "introspect", {"key": key})

    async def lookup_key(self, key_id: str) -> KeyIntrospection:
        """What auth-service says of an API key known by its id alone, with the public half of
        its event-signing pair: for verifying a signed `post.submitted`. Cached as `introspect`,
        so a revocation stops signed events as soon as API calls."""
        return await self._key_answer(("id", key_id), "lookup", {"key_id": key_id})

    async def _key_answer(
        self, cache_key: tuple[str, str], route: str, body: dict[str, str]
    ) -> KeyIntrospection:
        cached = self._keys.get(cache_key)
        if cached is not None and cached.until > self._clock():
            result: KeyIntrospection = cached.value
            return result
        pending = self._asking.get(cache_key)
        if pending is None:
            pending = asyncio.ensure_future(self._ask_key(cache_key, route, body))
            self._asking[cache_key] = pending

            def done(future: asyncio.Future[KeyIntrospection]) -> None:
                if self._asking.get(cache_key) is future:
                    del self._asking[cache_key]

            pending.add_done_callback(done)
        # Shielded: a caller that gives up does not cancel the call others are waiting for.
        return await asyncio.shield(pending)

    async def _ask_key(
        self, cache_key: tuple[str, str], route: str, body: dict[str, str]
    ) -> KeyIntrospection:
        asked_at = self._clock()  # the answer is no older than this
        answer = await self._call(
            "POST", f"/internal/v1/api-keys/{route}", KeyIntrospection, json=body
        )
        ttl = self._introspection_ttl if answer.active else self._inactive_ttl
        if len(self._keys) >= MAX_CACHED_KEYS:
            now = self._clock()
            self._keys = {k: c for k, c in self._keys.items() if c.until > now}
            if len(self._keys) >= MAX_CACHED_KEYS:
                self._keys.clear()
        self._keys[cache_key] = _Cached(answer, asked_at + ttl)
        return answer

    async def get_integration(self, integration_id: str, business_id: str) -> IntegrationInfo:
        return await self._call(
            "GET",
            f"/internal/v1/integrations/{integration_id}",
            IntegrationInfo,
            params={"business_id": business_id},
        )

    async def whatsapp_templates(
        self, integration_id: str, business_id: str
    ) -> list[RegisteredTemplate]:
        """A WhatsApp integration's registered templates, as the platform lists them now
        (the scheduler's submission check keeps them for a while)."""
        listed = await self._call(
            "GET",
            f"/internal/v1/integrations/{integration_id}/whatsapp-templates",
            TemplateList,
            params={"business_id": business_id},
        )
        return listed.templates

    async def get_token(self, integration_id: str, business_id: str) -> AccessToken:
        """The token, from the cache until `token_margin_s` before it expires."""
        key = (integration_id, business_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one request per integration at a time, the others share it
            cached = self._tokens.get(key)
            if cached is not None and cached.until > self._clock():
                token: AccessToken = cached.value
                return token
            fresh = await self._call(
                "GET",
                f"/internal/v1/integrations/{integration_id}/token",
                AccessToken,
                params={"business_id": business_id},
            )
            self._remember(key, fresh)
            return fresh

    async def force_refresh(self, integration_id: str, business_id: str) -> AccessToken:
        key = (integration_id, business_id)
        self._tokens.pop(key, None)
        fresh = await self._call(
            "POST",
            f"/internal/v1/integrations/{integration_id}/refresh",
            AccessToken,
            params={"business_id": business_id},
        )
        self._remember(key, fresh)
        return fresh

    def forget(self, integration_id: str, business_id: str) -> None:
        """Drop a cached token (e.g. the platform refused it and no refresh is wanted)."""
        self._tokens.pop((integration_id, business_id), None)

    def _remember(self, key: tuple[str, str], token: AccessToken) -> None:
        now = self._clock()
        until = now + self._max_cache
        if token.expires_at is not None:
            until = min(until, token.expires_at.timestamp() - self._margin)
        if until > now:
            self._tokens[key] = _Cached(token, until)
        else:
            self._tokens.pop(key, None)

    async def _call(self, method: str, path: str, model: type[M], **kwargs: Any) -> M:
        url = f"{self._base}{path}"
        try:
            response = await self._http.request(method, url, headers=self._headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient("auth-service did not answer in time", code="timeout") from exc
        except httpx.TransportError as exc:
            msg = f"auth-service unreachable: {type(exc).__name__}"
            raise Transient(msg, code="network") from exc
        _raise_for(response)
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            msg = f"auth-service answered {path} with an unexpected body"
            raise AuthClientError(msg) from exc


def _raise_for(response: httpx.Response) -> None:
    status = response.status_code
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = str(body.get("error") or f"http_{status}")
    message = str(body.get("message") or f"auth-service answered HTTP {status}")
    if status == 409 or code == "needs_reauth":
        evidence = {k: body[k] for k in ("integration_id", "status", "reason") if k in body}
        raise NeedsReauth(message, code=code, http_status=status, evidence=evidence)
    if status == 404:
        raise IntegrationNotFound(message)
    if status in (401, 403):
        raise AuthServiceRejected(f"{code}: {message}")
    if status == 429:
        retry = response.headers.get("retry-after")
        retry_after = float(retry) if retry and retry.isdigit() else None
        raise Throttled(message, code=code, http_status=status, retry_after_s=retry_after)
    if status >= 500:
        raise Transient(message, code=code, http_status=status)
    raise AuthClientError(f"{code}: {message}")

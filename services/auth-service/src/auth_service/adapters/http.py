"""Calling platform APIs: one place that turns transport failures and error bodies into the
`herald.errors` taxonomy, so handlers route on the type alone.

Request URLs never carry tokens (they go in `Authorization` headers or form bodies); the one
exception Meta forces is `debug_token`'s `input_token` (see README).
"""

from __future__ import annotations

from typing import Any

import httpx

from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient

_GRAPH_THROTTLE = frozenset({4, 17, 32, 613, *range(80000, 80015)})
_GRAPH_TRANSIENT = frozenset({1, 2, 341})
_GRAPH_REAUTH = frozenset({190, 102, 10, *range(200, 300)})
_TIKTOK_REAUTH = frozenset({"invalid_grant", "access_token_invalid", "scope_not_authorized"})


async def send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """The response, or `Transient` when the platform could not be reached or timed out."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        msg = f"timed out calling {httpx.URL(url).host}"
        raise Transient(msg, code="timeout") from exc
    except httpx.TransportError as exc:
        msg = f"could not reach {httpx.URL(url).host}: {type(exc).__name__}"
        raise Transient(msg, code="network") from exc


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"data": body}


def graph_json(response: httpx.Response) -> dict[str, Any]:
    """The body of a successful Graph answer, or its error classified."""
    body = body_of(response)
    error = body.get("error")
    if response.is_success and not isinstance(error, dict):
        return body
    raise graph_error(response.status_code, error if isinstance(error, dict) else {})


def graph_error(status: int, error: dict[str, Any]) -> PlatformError:
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    message = str(error.get("message") or error.get("error_message") or f"HTTP {status}")
    kwargs: dict[str, Any] = {
        "code": None if code is None else str(code),
        "subcode": None if subcode is None else str(subcode),
        "http_status": status,
    }
    if code in _GRAPH_THROTTLE or status == 429:
        return Throttled(message, **kwargs)
    if code in _GRAPH_TRANSIENT or error.get("is_transient") is True or status >= 500:
        return Transient(message, **kwargs)
    if code in _GRAPH_REAUTH or (error.get("type") == "OAuthException" and code is None):
        return NeedsReauth(message, **kwargs)
    return Permanent(message, **kwargs)


def tiktok_json(response: httpx.Response) -> dict[str, Any]:
    """TikTok answers OAuth errors as `{error, error_description}` and API errors as
    `{data, error: {code, message}}` with code `ok` on success."""
    body = body_of(response)
    error = body.get("error")
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        if code in ("", "ok") and response.is_success:
            return body
        return _tiktok_raise(response.status_code, code, str(error.get("message") or code))
    if isinstance(error, str) and error:
        return _tiktok_raise(response.status_code, error, str(body.get("error_description", "")))
    if not response.is_success:
        return _tiktok_raise(response.status_code, f"http_{response.status_code}", "")
    return body


def _tiktok_raise(status: int, code: str, message: str) -> dict[str, Any]:
    text = message or code
    if status == 429 or code == "rate_limit_exceeded":
        raise Throttled(text, code=code, http_status=status)
    if status >= 500 or code == "internal_error":
        raise Transient(text, code=code, http_status=status)
    if code in _TIKTOK_REAUTH:
        raise NeedsReauth(text, code=code, http_status=status)
    raise Permanent(text, code=code, http_status=status)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

"""OAuth connect and callback (auth-service README, "How it works"; security-reliability.md §1).

`state` is 256 random bits, stored only as its SHA-256, bound to the business, the provider and
the authorization server it was sent to, single use (a unique insert marks it used, and the
state is deleted), and valid for `state_ttl_s` (expired ones are swept). Its PKCE verifier is
sealed by the vault like a token, bound to the state (issue 19, finding 8). A code is redeemed
at most once (another unique insert) and only at the server the state names. Every refusal
here happens before any call to a token endpoint.

The flow is bound to the browser that runs it (issue 19, finding 3; RFC 9700 §2.1): `connect`
answers a Herald start link, not the platform's page. The first browser to open it gets a
cookie holding a random secret, whose digest is bound to the state (a unique insert), and is
sent on to the platform; the callback refuses a state whose binding the browser cannot show. So
a platform link that business A started, completed in a victim's browser, connects nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from auth_service.domain import (
    AuthServer,
    Integration,
    OAuthState,
    SecretField,
    browser_cookie_name,
    digest,
    new_state,
    pkce_challenge,
    pkce_pair,
)
from auth_service.errors import (
    AuthServiceError,
    NotFound,
    OAuthRejected,
    ProviderUnavailable,
)
from auth_service.handlers.base import Deps
from auth_service.handlers.lifecycle import store_connected
from auth_service.ports import AuthorizeRequest, ProviderGateway
from auth_service.returns import allowed_return
from auth_service.vault import SealContext, VaultError
from herald.errors import NeedsReauth, Permanent, Throttled, Transient
from herald.topics import Platform

log = structlog.get_logger(__name__)
MAX_STATE_CHARS = 128


@dataclass(frozen=True)
class ConnectStart:
    start_url: str  # Herald's start link, for the person's browser
    provider: Platform
    auth_server: AuthServer
    expires_at: datetime


@dataclass(frozen=True)
class BrowserStart:
    """Where a start link sends the browser, and the cookie it sets (none when the same browser
    opens it again: its cookie stands)."""

    authorize_url: str
    cookie_name: str
    cookie_value: str | None
    max_age_s: int


@dataclass(frozen=True)
class CallbackInput:
    state: str | None = None
    code: str | None = None
    error: str | None = None
    error_reason: str | None = None
    error_description: str | None = None


def callback_uri(deps: Deps, provider: Platform) -> str:
    return f"{deps.policy.public_base_url}/v1/oauth/{provider.value}/callback"


def start_uri(deps: Deps, provider: Platform, state: str) -> str:
    return f"{deps.policy.public_base_url}/v1/oauth/{provider.value}/start?state={state}"


def gateway_for(deps: Deps, provider: str) -> ProviderGateway:
    try:
        return deps.providers[Platform(provider)]
    except (ValueError, KeyError):
        msg = f"unknown provider {provider!r}; known: {', '.join(p.value for p in deps.providers)}"
        raise NotFound(msg, code="unknown_provider") from None


async def start_connect(
    deps: Deps,
    business_id: str,
    provider: str,
    login: AuthServer | None = None,
    return_to: str | None = None,
) -> ConnectStart:
    gateway = gateway_for(deps, provider)
    if return_to is not None and not allowed_return(return_to, deps.policy.return_urls):
        msg = "return_to: not a URL this installation lets a connection return to"
        raise AuthServiceError(msg, code="return_to_not_allowed")
    servers = gateway.auth_servers()
    # `login` chooses among a provider's servers; a provider with one server has no choice.
    server = login if login is not None and len(servers) > 1 else servers[0]
    if server not in servers:
        offered = ", ".join(s.value for s in servers)
        msg = f"{gateway.platform.value} connects through {offered}, not {server.value}"
        raise AuthServiceError(msg, code="unsupported_login")
    state = new_state()
    # The challenge goes out with the start link, computed again from the sealed verifier.
    verifier = pkce_pair()[0] if gateway.uses_pkce(server) else None
    now = deps.clock.now()
    state_hash = digest(state)
    sealed = verifier_context(business_id, state_hash)
    record = OAuthState(
        state_hash=state_hash,
        business_id=business_id,
        provider=gateway.platform,
        auth_server=server,
        redirect_uri=callback_uri(deps, gateway.platform),
        created_at=now,
        expires_at=now + timedelta(seconds=deps.policy.state_ttl_s),
        verifier=deps.vault.seal(verifier, sealed) if verifier else None,
        return_to=return_to,
    )
    await deps.states.put(record)
    start = start_uri(deps, gateway.platform, state)
    return ConnectStart(start, gateway.platform, server, record.expires_at)


async def open_in_browser(
    deps: Deps, provider: str, state: str, cookies: Mapping[str, str]
) -> BrowserStart:
    """A browser opened a start link: bind the state to it (the first one only) and send it on
    to the platform's authorize page."""
    gateway = gateway_for(deps, provider)
    record = await _live_state(deps, gateway.platform, state)
    name = browser_cookie_name(record.state_hash)
    now = deps.clock.now()
    max_age = max(1, int((record.expires_at - now).total_seconds()))
    shown = cookies.get(name)
    bound = await deps.states.binding(record.state_hash)
    secret: str | None = None
    if bound is None:
        secret = new_state()
        if not await deps.states.bind(record.state_hash, digest(secret), now):
            bound = await deps.states.binding(record.state_hash)  # another browser, just now
    if bound is not None and (shown is None or digest(shown) != bound):
        msg = "this link was opened in another browser already; start the connection again"
        raise _reject("start_link_used", msg)
    verifier = _verifier(deps, record)
    challenge = pkce_challenge(verifier) if verifier else None
    url = gateway.authorize_url(
        AuthorizeRequest(state, record.redirect_uri, challenge, record.auth_server)
    )
    log.info("oauth.started_in_browser", provider=gateway.platform.value, again=secret is None)
    return BrowserStart(url, name, secret, max_age)


async def return_to_of(deps: Deps, state: str | None) -> str | None:
    """Where the browser of a flow goes when it ends, if its connect named a place."""
    if not state or len(state) > MAX_STATE_CHARS:
        return None
    record = await deps.states.get(digest(state))
    return None if record is None else record.return_to


async def _live_state(deps: Deps, provider: Platform, state: str) -> OAuthState:
    if not state or len(state) > MAX_STATE_CHARS:
        raise _reject("invalid_state", "the link does not carry a state this service issued")
    record = await deps.states.get(digest(state))
    if record is None:
        raise _reject("invalid_state", "the state is unknown, already used or expired")
    if record.provider is not provider:
        msg = f"the state was issued for {record.provider.value}, not {provider.value}"
        raise _reject("state_provider_mismatch", msg)
    if deps.clock.now() >= record.expires_at:
        raise _reject("state_expired", "the state expired; start the connection again")
    return record


async def complete_callback(
    deps: Deps,
    provider: str,
    given: CallbackInput,
    caller_business: str | None = None,
    cookies: Mapping[str, str] | None = None,
) -> list[Integration]:
    """The integrations a callback created or renewed; `OAuthRejected` otherwise."""
    gateway = gateway_for(deps, provider)
    try:
        record = await _take_state(deps, gateway.platform, given, caller_business, cookies or {})
        integrations = await _redeem(deps, gateway, record, given)
    except AuthServiceError as exc:
        deps.metrics.callback(gateway.platform.value, exc.code)
        log.info("oauth.callback_rejected", provider=gateway.platform.value, reason=exc.code)
        raise
    deps.metrics.callback(gateway.platform.value, "connected")
    log.info("oauth.connected", provider=gateway.platform.value, integrations=len(integrations))
    return integrations


def verifier_context(business_id: str, state_hash: str) -> SealContext:
    """What a sealed verifier is bound to: a copy on another state does not open."""
    return SealContext(business_id, f"oauth-state:{state_hash}", SecretField.PKCE_VERIFIER)


def _verifier(deps: Deps, record: OAuthState) -> str | None:
    if record.verifier is None:
        return None
    try:
        return deps.vault.open(
            record.verifier, verifier_context(record.business_id, record.state_hash)
        )
    except VaultError as exc:  # its key was dropped from the keyring since, or it was moved
        log.warning("oauth.verifier_unreadable", error=str(exc))
        raise _reject("invalid_state", "the state can no longer be read; start again") from exc


def _reject(code: str, message: str) -> OAuthRejected:
    return OAuthRejected(message, code=code)


async def _take_state(
    deps: Deps,
    provider: Platform,
    given: CallbackInput,
    caller_business: str | None,
    cookies: Mapping[str, str],
) -> OAuthState:
    state = given.state or ""
    if not state:
        raise _reject("missing_state", "the callback carries no state")
    if len(state) > MAX_STATE_CHARS:
        raise _reject("invalid_state", "the state is not one this service issued")
    record = await deps.states.get(digest(state))
    if record is None:
        raise _reject("invalid_state", "the state is unknown, already used or expired")
    bound = await deps.states.binding(record.state_hash)  # read first: spending deletes it
    now = deps.clock.now()
    # Any callback that names a live state spends it, whatever happens next.
    if not await deps.states.mark_used(record.state_hash, now):
        raise _reject("state_replayed", "the state was used already")
    if record.provider is not provider:
        msg = f"the state was issued for {record.provider.value}, not {provider.value}"
        raise _reject("state_provider_mismatch", msg)
    if now >= record.expires_at:
        raise _reject("state_expired", "the state expired; start the connection again")
    if caller_business is not None and caller_business != record.business_id:
        raise _reject("state_business_mismatch", "the state belongs to another business")
    _check_browser(record, bound, cookies)
    return record


def _check_browser(record: OAuthState, bound: str | None, cookies: Mapping[str, str]) -> None:
    """The browser must show the secret its start link gave it (issue 19, finding 3)."""
    name = browser_cookie_name(record.state_hash)
    if bound is None:
        msg = (
            "this connection was not started in a browser through Herald's start link (the "
            "authorize_url that /connect answers), which binds it to that browser; send the "
            "person's browser there, not straight to the platform"
        )
        raise _reject("oauth_cookie_missing", msg)
    shown = cookies.get(name)
    if shown is None:
        msg = (
            f"this browser did not start the connection: the cookie {name} that its start link "
            "sets is missing (the link was opened in another browser, or cookies are blocked)"
        )
        raise _reject("oauth_cookie_missing", msg)
    if digest(shown) != bound:
        msg = f"the cookie {name} is not the one this connection's start link set"
        raise _reject("oauth_cookie_mismatch", msg)


async def _redeem(
    deps: Deps, gateway: ProviderGateway, record: OAuthState, given: CallbackInput
) -> list[Integration]:
    if given.error:
        detail = given.error_description or given.error_reason or given.error
        raise _reject(
            "provider_error", f"{gateway.platform.value} answered {given.error}: {detail}"
        )
    code = given.code or ""
    if not code:
        raise _reject("missing_code", "the callback carries no authorization code")
    code_verifier = _verifier(deps, record)
    if not await deps.states.mark_code_used(digest(f"{record.provider}|{code}"), deps.clock.now()):
        raise _reject("code_replayed", "this authorization code was redeemed already")
    try:
        accounts = await gateway.connect(
            auth_server=record.auth_server,
            code=code,
            redirect_uri=record.redirect_uri,
            code_verifier=code_verifier,
        )
    except (Transient, Throttled) as exc:
        raise ProviderUnavailable(f"{gateway.platform.value}: {exc.message}") from exc
    except (NeedsReauth, Permanent) as exc:
        raise _reject("code_rejected", f"{gateway.platform.value}: {exc.message}") from exc
    if not accounts:
        msg = f"the authorization granted no {gateway.platform.value} account to publish to"
        raise _reject("no_accounts", msg)
    return [await store_connected(deps, record.business_id, account) for account in accounts]

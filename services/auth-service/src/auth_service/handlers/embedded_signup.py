"""WhatsApp Embedded Signup as Meta's JavaScript SDK delivers it (issue 24, ADR 0018).

The business's page runs `FB.login` with the Embedded Signup `config_id`; it receives a code and,
through the `WA_EMBEDDED_SIGNUP` message event, the `waba_id` and `phone_number_id` the customer
chose, and posts them here with its API key. Then, in Meta's order: the code is redeemed once
(Herald's mark, then Graph's exchange without a redirect URI); `debug_token` must show both
WhatsApp permissions granted on that WABA, and the number must be one of the WABA's (ids the
token does not grant are refused by name, before anything changes at Meta); the app subscribes
to the WABA's webhooks; the number is registered for Cloud API unless it already is, with the
business's PIN or a generated one, sealed by the vault like a token; its display name, quality
rating and messaging limit are kept for the integration view. The integration is stored and
`integration.connected` emitted as for the redirect flows; a refusal is counted and logged as a
callback's is, with a code and a remediation.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from auth_service.domain import AuthServer, DiscoveredAccount, Integration, RefreshMode, SecretField
from auth_service.domain import digest as digest_of
from auth_service.errors import AuthServiceError, OAuthRejected, ProviderUnavailable
from auth_service.handlers.base import Deps
from auth_service.handlers.lifecycle import store_connected
from auth_service.ports import BusinessGrant, PhoneNumberProfile, WhatsAppOnboarding
from herald.errors import PlatformError, Throttled, Transient
from herald.topics import Platform

log = structlog.get_logger(__name__)
PERMISSIONS = ("whatsapp_business_management", "whatsapp_business_messaging")
PROVIDER = Platform.WHATSAPP.value
# Graph's answers that name the refusal (platform-apis.md §1.1, §3.1).
CODE_USED, CODE_EXPIRED, PIN_MISMATCH = "36009", "36007", "133005"
T = TypeVar("T")
Refusal = Callable[[PlatformError], AuthServiceError]


@dataclass(frozen=True)
class SignupInput:
    code: str
    waba_id: str
    phone_number_id: str
    pin: str | None = None  # the business's choice; None: Herald generates one
    business_id: str | None = None  # the customer's business portfolio, as the event named it


def refused(code: str, message: str, remediation: str, **details: str) -> OAuthRejected:
    return OAuthRejected(message, code=code, remediation=remediation, **details)


async def connect_embedded_signup(
    deps: Deps, onboarding: WhatsAppOnboarding, business_id: str, given: SignupInput
) -> Integration:
    try:
        integration = await _onboard(deps, onboarding, business_id, given)
    except AuthServiceError as exc:
        deps.metrics.callback(PROVIDER, exc.code)
        log.info("whatsapp.embedded_signup_refused", reason=exc.code)
        raise
    deps.metrics.callback(PROVIDER, "connected")
    log.info("whatsapp.embedded_signup_connected", integration_id=integration.id)
    return integration


async def _onboard(
    deps: Deps, onboarding: WhatsAppOnboarding, business_id: str, given: SignupInput
) -> Integration:
    # The same mark as the redirect flow's: a code is redeemed once, whichever way it came.
    if not await deps.states.mark_code_used(
        digest_of(f"{PROVIDER}|{given.code}"), deps.clock.now()
    ):
        raise _code_used()
    grant = await _call(onboarding.exchange(given.code), _code_refusal)
    _check_permissions(grant, given.waba_id)
    numbers = await _call(onboarding.numbers(given.waba_id, grant.token), _assets_refusal(given))
    if given.phone_number_id not in numbers:
        number = given.phone_number_id
        raise _not_granted({number: f"phone number {number} (not one of the WABA's numbers)"})
    await _call(onboarding.subscribe(given.waba_id, grant.token), _step_refusal("subscribe"))
    profile = await _call(
        onboarding.profile(given.phone_number_id, grant.token), _step_refusal("profile")
    )
    pin = None
    if profile.status != "CONNECTED":
        pin = given.pin or f"{secrets.randbelow(1_000_000):06d}"
        register = onboarding.register(given.phone_number_id, grant.token, pin)
        await _call(register, _register_refusal(given.pin is not None))
        profile = await _call(
            onboarding.profile(given.phone_number_id, grant.token), _step_refusal("profile")
        )
    account = _account(grant, given, profile, pin)
    return await store_connected(deps, business_id, account)


async def _call(step: Awaitable[T], refusal: Refusal) -> T:
    """Await a Graph step; a platform error becomes 503 (transient, throttled) or the refusal
    `refusal(exc)` names."""
    try:
        return await step
    except (Transient, Throttled) as exc:
        raise ProviderUnavailable(f"{PROVIDER}: {exc.message}") from exc
    except PlatformError as exc:
        raise refusal(exc) from exc


def _code_used() -> OAuthRejected:
    return refused(
        "code_used",
        "this Embedded Signup code was redeemed already; a code works once",
        "run Embedded Signup again in the browser and send the new code at once",
    )


def _code_refusal(exc: PlatformError) -> AuthServiceError:
    if exc.subcode == CODE_USED:
        return _code_used()
    if exc.subcode == CODE_EXPIRED:
        return refused(
            "code_expired",
            "this Embedded Signup code expired before it was sent to Herald",
            "run Embedded Signup again and send the code as soon as FB.login returns it",
        )
    return refused(
        "code_rejected",
        f"{PROVIDER}: Meta refused the code: {exc.message}",
        "send the code FB.login returned with the Embedded Signup config_id, unchanged",
    )


def _check_permissions(grant: BusinessGrant, waba_id: str) -> None:
    if not grant.valid:
        msg = "the business token Embedded Signup issued is not valid"
        raise refused("code_rejected", msg, "run Embedded Signup again")
    missing = [p for p in PERMISSIONS if p not in grant.scopes]
    if missing:
        raise refused(
            "missing_permission",
            f"the customer did not grant {', '.join(missing)}",
            "run Embedded Signup again and keep every WhatsApp permission selected",
            missing=",".join(missing),
        )
    short = [p for p in PERMISSIONS if waba_id not in grant.targets.get(p, ())]
    if short:
        raise _not_granted({waba_id: f"WhatsApp business account {waba_id} ({', '.join(short)})"})


def _not_granted(what: dict[str, str]) -> OAuthRejected:
    """`what`: each id the token does not grant, and how to name it."""
    return refused(
        "assets_not_granted",
        f"the token Embedded Signup issued does not grant {'; '.join(what.values())}",
        "send the waba_id and phone_number_id of the WA_EMBEDDED_SIGNUP event of the same "
        "signup as the code",
        not_granted=",".join(what),
    )


def _assets_refusal(given: SignupInput) -> Refusal:
    def refusal(exc: PlatformError) -> AuthServiceError:
        return _not_granted(
            {
                given.waba_id: f"WhatsApp business account {given.waba_id} "
                f"(its numbers: {exc.message})"
            }
        )

    return refusal


def _step_refusal(step: str) -> Refusal:
    def refusal(exc: PlatformError) -> AuthServiceError:
        return refused(
            "onboarding_failed",
            f"{PROVIDER}: Meta refused {step}: {exc.message}",
            "check the app's Advanced access to whatsapp_business_management, then run "
            "Embedded Signup again",
        )

    return refusal


def _register_refusal(chosen: bool) -> Refusal:
    def refusal(exc: PlatformError) -> AuthServiceError:
        if exc.code == PIN_MISMATCH and chosen:
            return refused(
                "pin_mismatch",
                "the PIN is not this number's two-step verification PIN",
                "send the number's current two-step verification PIN, or reset it in "
                "WhatsApp Manager, then run Embedded Signup again",
            )
        if exc.code == PIN_MISMATCH:
            return refused(
                "number_registered_elsewhere",
                "the number was registered before (with another provider or an earlier "
                "setup) and has a two-step verification PIN Herald was not given",
                "send that PIN as `pin`, or reset it in WhatsApp Manager, then run Embedded "
                "Signup again",
            )
        return refused(
            "registration_failed",
            f"{PROVIDER}: Meta refused to register the number: {exc.message}",
            "see Meta's register error codes; run Embedded Signup again once resolved",
        )

    return refusal


def _account(
    grant: BusinessGrant, given: SignupInput, profile: PhoneNumberProfile, pin: str | None
) -> DiscoveredAccount:
    view = {
        "phone_number_id": given.phone_number_id,
        "waba_id": given.waba_id,
        "display_phone_number": profile.display_phone_number,
        "onboarding": "embedded_signup",
        "registration": "registered_by_herald" if pin else "already_registered",
    }
    optional = {
        "business_id": given.business_id,
        "verified_name": profile.verified_name,
        "quality_rating": profile.quality_rating,
        "messaging_limit": profile.messaging_limit,
        "status": profile.status,
    }
    view |= {k: v for k, v in optional.items() if v}
    tokens = {SecretField.ACCESS: grant.token} | ({SecretField.PIN: pin} if pin else {})
    return DiscoveredAccount(
        platform=Platform.WHATSAPP,
        account_id=given.phone_number_id,
        account_name=profile.verified_name or profile.display_phone_number or None,
        account=view,
        scopes=grant.scopes,
        mode=RefreshMode.CHECK,
        auth_server=AuthServer.FACEBOOK,
        provider_user_id=grant.user_id,
        tokens=tokens,
        expires_at=grant.expires_at,
    )

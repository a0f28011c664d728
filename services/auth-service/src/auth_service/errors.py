"""What a handler refuses with. The API layer maps each to one HTTP status and JSON body
`{"error": <code>, "message": <text>}`; the codes are part of the documented contract.
The refusals every Herald API shares come from `herald.apierrors`; these are auth-service's own."""

from __future__ import annotations

from herald.apierrors import ApiError, Forbidden, NotFound, Unauthorized

__all__ = [
    "AuthServiceError",
    "Busy",
    "Forbidden",
    "InvalidField",
    "NeedsReauthorization",
    "NotFound",
    "OAuthRejected",
    "ProviderUnavailable",
    "TooManyAttempts",
    "Unauthorized",
]

AuthServiceError = ApiError  # every refusal: this service's below and the shared ones


class NeedsReauthorization(ApiError):
    """The integration is expired or disconnected: a person must connect it again."""

    status = 409
    code = "needs_reauth"


class OAuthRejected(ApiError):
    """A callback refused before any token call (state, code) or a provider's error redirect."""

    code = "oauth_rejected"


class ProviderUnavailable(ApiError):
    """The platform did not answer usefully (network, 5xx, throttled); try again later."""

    status = 503
    code = "provider_unavailable"


class Busy(ApiError):
    """Another replica holds the refresh lock for longer than a caller waits."""

    status = 503
    code = "refresh_in_progress"


class TooManyAttempts(ApiError):
    """Too many failed sign-ins for this email or from this address; wait and try again."""

    status = 429
    code = "too_many_attempts"


class InvalidField(ApiError):
    """A field's value breaks a rule the schema cannot say (an email, a password's length)."""

    status = 400
    code = "invalid_field"

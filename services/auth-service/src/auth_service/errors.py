"""What a handler refuses with. The API layer maps each to one HTTP status and JSON body
`{"error": <code>, "message": <text>}`; the codes are part of the documented contract."""

from __future__ import annotations


class AuthServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: str | None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = {k: v for k, v in details.items() if v is not None}


class Unauthorized(AuthServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(AuthServiceError):
    status = 403
    code = "forbidden"


class NotFound(AuthServiceError):
    status = 404
    code = "not_found"


class NeedsReauthorization(AuthServiceError):
    """The integration is expired or disconnected: a person must connect it again."""

    status = 409
    code = "needs_reauth"


class OAuthRejected(AuthServiceError):
    """A callback refused before any token call (state, code) or a provider's error redirect."""

    status = 400
    code = "oauth_rejected"


class ProviderUnavailable(AuthServiceError):
    """The platform did not answer usefully (network, 5xx, throttled); try again later."""

    status = 503
    code = "provider_unavailable"


class Busy(AuthServiceError):
    """Another replica holds the refresh lock for longer than a caller waits."""

    status = 503
    code = "refresh_in_progress"

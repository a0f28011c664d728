"""What a Herald HTTP API refuses with, on purpose: an exception that carries its HTTP status and
a stable `code` (part of the documented contract), raised by handlers and mapped to one JSON
body by each service's API layer (`{"error": code, "message": message, ...}`; the body's other
fields are the service's own). Services subclass `ApiError` for refusals of their own.

These are answers to a caller; failures of a platform call are the other tree, `herald.errors`.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: str | None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = {k: v for k, v in details.items() if v is not None}


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class TooLarge(ApiError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class Unavailable(ApiError):
    """A dependency did not answer; the caller may try again."""

    status = 503
    code = "unavailable"

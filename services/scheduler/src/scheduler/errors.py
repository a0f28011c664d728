"""What the scheduler's use cases raise on purpose; the API maps each to a status code."""

from __future__ import annotations

from herald.events import Violation


class SchedulerError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(SchedulerError):
    status = 404
    code = "not_found"


class Conflict(SchedulerError):
    status = 409
    code = "conflict"


class Unavailable(SchedulerError):
    """A dependency (auth-service) did not answer; the caller may try again."""

    status = 503
    code = "unavailable"


class Rejected(SchedulerError):
    """The input breaks rules; every violation names its field path."""

    status = 422
    code = "invalid_request"

    def __init__(self, violations: list[Violation], message: str | None = None) -> None:
        super().__init__(message or f"{len(violations)} problem(s) with the request")
        self.violations = violations


class TooLarge(SchedulerError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(SchedulerError):
    status = 415
    code = "unsupported_media_type"

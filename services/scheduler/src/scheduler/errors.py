"""What the scheduler's use cases raise on purpose; the API maps each to a status code. The
refusals every Herald API shares come from `herald.apierrors`; `Rejected` is the scheduler's."""

from __future__ import annotations

from herald.apierrors import (
    ApiError,
    Conflict,
    NotFound,
    TooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from herald.events import Violation

__all__ = [
    "Conflict",
    "NotFound",
    "Rejected",
    "SchedulerError",
    "TooLarge",
    "Unavailable",
    "UnsupportedMediaType",
]

SchedulerError = ApiError  # every refusal: `Rejected` and the shared ones


class Rejected(ApiError):
    """The input breaks rules; every violation names its field path."""

    status = 422
    code = "invalid_request"

    def __init__(self, violations: list[Violation], message: str | None = None) -> None:
        super().__init__(message or f"{len(violations)} problem(s) with the request")
        self.violations = violations

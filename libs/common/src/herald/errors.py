"""The error taxonomy every platform adapter classifies into, once (docs/architecture.md,
"Failures and retries").

    HeraldError
    ├── InvalidEvent          a message that cannot be decoded or validated → dead-letter topic
    └── PlatformError         what a platform call ended in; `category` drives the retry policy
        ├── Transient         5xx, timeouts, Graph code 1/2, is_transient → retry with backoff
        │   └── AmbiguousOutcome  it may have happened: check before repeating a visible step
        ├── Throttled         rate limits and quotas → defer until capacity is back
        ├── NeedsReauth       token expired or revoked → one refresh and one retry, then fail
        ├── Permanent         invalid content, duplicates, policy → fail at once with remediation
        └── Unknown           an ambiguous final call the platform cannot confirm → fail, no re-post

Adapters raise these; everything downstream routes on the type alone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCategory(StrEnum):
    TRANSIENT = "transient"
    THROTTLED = "throttled"
    NEEDS_REAUTH = "needs_reauth"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


class HeraldError(Exception):
    """Base of every error Herald raises on purpose."""


class InvalidEvent(HeraldError):
    """A Kafka message that is not a valid Herald event; `reason` says why, for the DLQ header."""

    def __init__(self, reason: str, *, code: str = "invalid_event") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class PlatformError(HeraldError):
    """A classified platform outcome. `code`/`subcode` are the platform's own, as text."""

    category: ClassVar[ErrorCategory]

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        subcode: str | None = None,
        remediation: str | None = None,
        retry_after_s: float | None = None,
        http_status: int | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.remediation = remediation
        self.retry_after_s = retry_after_s
        self.http_status = http_status
        self.evidence = evidence or {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, subcode={self.subcode!r})"
        )


class Transient(PlatformError):
    category = ErrorCategory.TRANSIENT


class AmbiguousOutcome(Transient):
    """A call that may have taken effect (timeout or 5xx after sending): retryable, but an
    adapter must first check whether it went through before repeating a visible step."""


class Throttled(PlatformError):
    """`retry_after_s` is when the platform says capacity is back (None: the policy's default)."""

    category = ErrorCategory.THROTTLED


class NeedsReauth(PlatformError):
    category = ErrorCategory.NEEDS_REAUTH


class Permanent(PlatformError):
    category = ErrorCategory.PERMANENT


class Unknown(PlatformError):
    category = ErrorCategory.UNKNOWN


ERROR_TYPES: dict[ErrorCategory, type[PlatformError]] = {
    cls.category: cls for cls in (Transient, Throttled, NeedsReauth, Permanent, Unknown)
}

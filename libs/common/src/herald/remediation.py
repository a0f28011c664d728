"""What a person can do about a failure, chosen by what happens next (issue 16, ADR 0018).

An adapter classifies an error with the remediation that fits while Herald still acts on it
("Herald retries this automatically"). Once the runtime gives up, that text would be a false
promise, so a final failure's remediation is chosen here: a transient or throttled failure that
ran out of attempts or deferral says Herald gave up and what to do; a `needs_reauth` one names
the integration to reconnect; anything else keeps the adapter's own text.
"""

from __future__ import annotations

from herald.errors import ErrorCategory, PlatformError

_FIX = "Read the message, fix what it names, then retry the post."


def reconnect(integration_id: str, platform: str, specific: str | None = None) -> str:
    """The remediation of a `needs_reauth` failure: what the platform asks for first, if it
    said, and which integration to reconnect."""
    named = (
        f"Reconnect the {platform} account of integration {integration_id} in Herald "
        "(Integrations → Reconnect, granting the permissions asked for), then retry the post."
    )
    if specific is None or integration_id in specific or specific.lower().startswith("reconnect"):
        return named
    return f"{specific} {named}"


def final(
    error: PlatformError, *, integration_id: str, platform: str, attempt: int, reason: str
) -> str:
    """The remediation for `error` when it ends the target (no retry or wait follows)."""
    category = error.category
    if category is ErrorCategory.NEEDS_REAUTH:
        return reconnect(integration_id, platform, error.remediation)
    if category in (ErrorCategory.TRANSIENT, ErrorCategory.THROTTLED):
        return (
            f"Herald gave up ({reason}, attempt {attempt}): the platform kept failing or "
            "refusing calls. Check the platform's status, then retry the post."
        )
    return error.remediation or _FIX

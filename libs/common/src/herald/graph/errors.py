"""The Graph error envelope classified into `herald.errors`, by `code` and `error_subcode`.

Tables follow platform-apis.md §1.4, §2.4, §3.6 and §5.5. HTTP status is never the key (most
Graph errors are 400, some 500): it only decides for an envelope whose code no table knows,
where a 5xx is transient and anything else permanent. Order: the exact (code, subcode) rows,
then the code rows and ranges, then `is_transient`, then the status.

A call that changes something (a POST) and may have taken effect (a timeout after the request was
sent, a dropped connection, a 5xx answer) raises `herald.errors.AmbiguousOutcome`, a `Transient`:
the runtime retries it like any transient error; an adapter that can check the platform catches it
and reconciles before anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.errors import (
    AmbiguousOutcome,
    NeedsReauth,
    Permanent,
    PlatformError,
    Throttled,
    Transient,
)


@dataclass(frozen=True)
class Rule:
    kind: type[PlatformError]
    remediation: str


RETRY = "Nothing to do: Herald retries this automatically."
WAIT = "Nothing to do: Herald waits until the platform accepts calls again."
RECONNECT = "Reconnect the account in Herald (log in again and grant the permissions asked for)."
RESTRICTED = (
    "The Instagram account is restricted or inactive: open the Instagram app, resolve the notice "
    "under Settings → Account status, then retry the post; the connection itself is fine."
)
FIX_MEDIA = "Replace the media file so it meets the platform's specifications, then retry."

# (code, subcode) → rule. Instagram's subcodes (platform-apis.md §2.4) and the few Facebook ones
# whose meaning differs from their code's.
BY_SUBCODE: dict[tuple[int, int], Rule] = {
    (-2, 2207003): Rule(Transient, RETRY),
    (-2, 2207020): Rule(Transient, RETRY),
    (-1, 2207001): Rule(Transient, RETRY),
    (-1, 2207032): Rule(Transient, RETRY),
    (-1, 2207053): Rule(Transient, RETRY),
    (1, 2207057): Rule(
        Permanent, "Choose a cover frame (thumb offset) within the video's length, then retry."
    ),
    (4, 2207051): Rule(
        Permanent,
        "Instagram restricted this account's activity as possible spam; review the account in "
        "the Instagram app before posting again.",
    ),
    (9, 2207042): Rule(Throttled, WAIT),
    (24, 2207006): Rule(Transient, RETRY),
    (24, 2207008): Rule(Transient, RETRY),
    # Restricted or inactive (§2.4: "needs user action"): a new token changes nothing, so it is
    # not NeedsReauth and the integration stays connected. Instagram sends it under 25 and 10.
    (10, 2207050): Rule(Permanent, RESTRICTED),
    (25, 2207050): Rule(Permanent, RESTRICTED),
    (100, 2207023): Rule(Permanent, "Use an image (JPEG) or an MP4/MOV video."),
    (100, 2207028): Rule(Permanent, "A carousel needs 2 to 10 items; change the item count."),
    (100, 2207035): Rule(Permanent, "Remove or fix the product tags."),
    (100, 2207036): Rule(Permanent, "Remove or fix the product tags."),
    (100, 2207037): Rule(Permanent, "Remove or fix the product tags."),
    (100, 2207040): Rule(Permanent, "Tag at most 20 accounts (@mentions)."),
    (352, 2207026): Rule(Permanent, "Upload the video as MP4 or MOV (H.264 or HEVC, AAC)."),
    (9004, 2207052): Rule(
        Permanent, "The platform could not download the media; check its URL is public, then retry."
    ),
    (9007, 2207027): Rule(Transient, RETRY),
    (36000, 2207004): Rule(Permanent, "Use an image of at most 8 MB."),
    (36001, 2207005): Rule(Permanent, "Use a JPEG image."),
    (36003, 2207009): Rule(Permanent, "Crop the image to an aspect ratio between 4:5 and 1.91:1."),
    (36004, 2207010): Rule(
        Permanent, "Shorten the caption: at most 2,200 characters, 30 hashtags and 20 @mentions."
    ),
}

# WhatsApp Cloud API refusals (platform-apis.md §3.6), each with what a person can do about it.
WHATSAPP_REFUSALS: dict[int, str] = {
    130472: "WhatsApp held this user out for an experiment; nothing was sent or charged.",
    130497: "The business may not message users in this country.",
    131008: "A required parameter of the message is missing; fix the message, then retry.",
    131009: "A parameter of the message is not valid; fix the message, then retry.",
    131021: "The recipient is the sending number itself; remove it from the recipients.",
    131026: (
        "WhatsApp cannot deliver to this number (not on WhatsApp, an old app, or terms not "
        "accepted); check the number or remove the contact."
    ),
    131031: "The WhatsApp account is locked or restricted; resolve it in WhatsApp Manager.",
    131042: "A payment problem stops messaging; fix the payment method in WhatsApp Manager.",
    131045: "The phone number's registration is incomplete; register the number again.",
    131047: "More than 24 hours passed since the customer last wrote: send a template instead.",
    131048: (
        "Too many of this number's messages were flagged as spam: pause the campaign and "
        "review its content."
    ),
    131049: "WhatsApp limits marketing to this user for now; do not send again within 24 hours.",
    131050: "The customer opted out of marketing messages; do not send them marketing.",
    131051: "WhatsApp does not support this message type.",
    131053: "WhatsApp could not use the media; check its type, size and address, then retry.",
    132000: "Send the template with the number of parameters it was approved with.",
    132001: "Use an approved template: check its name and language in WhatsApp Manager.",
    132005: "Shorten the template's parameters: the message would be too long.",
    132007: "The template's parameters break WhatsApp's format policy; edit them.",
    132012: "Give each template parameter the format the template was approved with.",
    132015: "The template is paused for low quality; edit it or use another template.",
    132016: "The template is disabled for low quality; use another template.",
    133010: "The phone number is not registered on the Cloud API; register it.",
}

_THROTTLED = Rule(Throttled, WAIT)
_BUC = Rule(Throttled, WAIT)

# code → rule (platform-apis.md §5.2, §5.3, §5.5; WhatsApp codes from §3.6 for the WhatsApp
# publisher that shares this client).
BY_CODE: dict[int, Rule] = {
    1: Rule(Transient, RETRY),
    2: Rule(Transient, RETRY),
    3: Rule(Permanent, "The Herald app lacks this capability on Meta; contact the operators."),
    4: _THROTTLED,
    10: Rule(NeedsReauth, RECONNECT),
    17: _THROTTLED,
    32: _THROTTLED,
    100: Rule(
        Permanent, "The platform refused a parameter of the post; edit the post, then retry."
    ),
    102: Rule(NeedsReauth, RECONNECT),
    190: Rule(NeedsReauth, RECONNECT),
    324: Rule(Permanent, FIX_MEDIA),
    341: Rule(Transient, RETRY),
    352: Rule(Permanent, FIX_MEDIA),
    368: Rule(
        Permanent,
        "The platform blocked this account for a policy reason; review the account's notices "
        "before posting again.",
    ),
    506: Rule(
        Permanent, "The same text was just posted on this Page; change the text to post it again."
    ),
    613: _THROTTLED,
    1609005: Rule(Permanent, "The platform could not use the link; check the URL, then retry."),
    130429: _THROTTLED,
    131000: Rule(Transient, RETRY),
    131016: Rule(Transient, RETRY),
    131056: _THROTTLED,
    131057: Rule(Transient, RETRY),
    133016: _THROTTLED,
    **{code: Rule(Permanent, text) for code, text in WHATSAPP_REFUSALS.items()},
    0: Rule(NeedsReauth, RECONNECT),
}

# 190 subcodes whose remedy is not a plain reconnect (platform-apis.md §5.2).
TOKEN_SUBCODES: dict[int, str] = {
    459: "Log in on facebook.com and follow the instructions there, then reconnect the account.",
    464: "Confirm the Facebook account (email or phone), then reconnect it.",
    492: "The person who connected the Page lost their role on it; have a Page admin reconnect.",
}


def rule_for(code: int | None, subcode: int | None) -> Rule | None:
    """The table's rule for an error code and subcode, or None when no table knows it."""
    if code is None:
        return None
    exact = BY_SUBCODE.get((code, subcode)) if subcode is not None else None
    if exact is not None:
        return exact
    if code == 190 and subcode in TOKEN_SUBCODES:
        return Rule(NeedsReauth, TOKEN_SUBCODES[subcode])
    return BY_CODE.get(code) or _by_range(code)


def _by_range(code: int) -> Rule | None:
    if 200 <= code <= 299:
        return Rule(NeedsReauth, RECONNECT)
    if 80000 <= code <= 80014:
        return _BUC
    return None


@dataclass(frozen=True)
class Envelope:
    """The fields of `{"error": {...}}` that classification and reports use."""

    message: str
    code: int | None
    subcode: int | None
    is_transient: bool
    user_message: str | None
    fbtrace_id: str | None

    @classmethod
    def parse(cls, body: Any) -> Envelope | None:
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            return None
        return cls(
            message=str(error.get("message") or "Graph error without a message"),
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            is_transient=error.get("is_transient") is True,
            user_message=_text(error.get("error_user_msg")),
            fbtrace_id=_text(error.get("fbtrace_id")),
        )


def classify(
    envelope: Envelope | None,
    *,
    status: int,
    retry_after_s: float | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> PlatformError:
    """The taxonomy's error for one failed Graph answer (`envelope` None: no JSON envelope)."""
    details = dict(evidence or {})
    if envelope is None:
        kind = Transient if status >= 500 or status == 429 else Permanent
        message = f"Graph answered HTTP {status} without an error envelope"
        remediation = RETRY if kind is Transient else "Contact the operators with the evidence."
        return kind(message, http_status=status, remediation=remediation, evidence=details)
    details["fbtrace_id"] = envelope.fbtrace_id
    rule = rule_for(envelope.code, envelope.subcode)
    if rule is None:
        rule = _fallback(envelope, status)
    message = envelope.message
    if envelope.user_message:
        message = f"{message} ({envelope.user_message})"
    return rule.kind(
        message,
        code=None if envelope.code is None else str(envelope.code),
        subcode=None if envelope.subcode is None else str(envelope.subcode),
        remediation=rule.remediation,
        retry_after_s=retry_after_s if rule.kind is Throttled else None,
        http_status=status,
        evidence=details,
    )


def _fallback(envelope: Envelope, status: int) -> Rule:
    if envelope.is_transient or status >= 500:
        return Rule(Transient, RETRY)
    return Rule(
        Permanent,
        f"The platform refused the post with an error Herald does not know (code "
        f"{envelope.code}); read the message, fix the post or contact the operators.",
    )


def ambiguous(error: PlatformError, why: str) -> AmbiguousOutcome:
    """`error` (a failed answer to a call that changes something), marked as maybe effective."""
    return AmbiguousOutcome(
        f"{why}: {error.message}",
        code=error.code,
        subcode=error.subcode,
        remediation=RETRY,
        http_status=error.http_status,
        evidence=dict(error.evidence),
    )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

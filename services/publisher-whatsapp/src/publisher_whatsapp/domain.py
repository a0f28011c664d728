"""The WhatsApp flow's pure rules: what a failed send means for its recipient and for the batch,
and the batch's progress as it is kept in the ledger's checkpoint
(docs/adr/0007-whatsapp-batches-and-pace.md).

A batch is one `post.requested.whatsapp`: up to N recipients of one message. Each recipient ends
`sent` (a message id) or `failed` (a code and what to do); until then it is `pending`, with the
earliest time it may be tried again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from herald.content import WhatsAppRecipient
from herald.errors import ErrorCategory, PlatformError
from herald.events import RecipientOutcome
from publisher_whatsapp.ports import FlagReason

SENDING = "sending"  # the one checkpoint step: some recipients may already have their message

PAIR_RATE = "131056"
THROUGHPUT = "130429"
# Refusals about one recipient, not about the message or the account (platform-apis.md §3.6):
# undeliverable, opted out, 24-hour window closed, recipient is the sender, per-user marketing
# cap, experiment holdout.
RECIPIENT_CODES = frozenset({"131026", "131050", "131047", "131021", "131049", "130472"})
# Template parameter problems: the recipient's own when it carries its own parameters.
PARAMETER_CODES = frozenset({"132000", "132005", "132007", "132012", "131008", "131009"})
# Failures that mean the contact should not be messaged again (issue 8, item 3).
FLAG_REASONS: dict[str, FlagReason] = {"131026": "undeliverable", "131050": "opted_out"}


class Verdict(StrEnum):
    FAIL = "fail"  # this recipient failed for good
    PAIR = "pair"  # 131056: this recipient later, with backoff
    SLOW_DOWN = "slow_down"  # 130429: the number is over its throughput
    RETRY = "retry"  # transient: this recipient later
    STOP = "stop"  # about the message or the account: the same for every recipient


def verdict(error: PlatformError, *, own_parameters: bool) -> Verdict:
    code = error.code or ""
    if code == PAIR_RATE:
        return Verdict.PAIR
    if code == THROUGHPUT:
        return Verdict.SLOW_DOWN
    if code in RECIPIENT_CODES or (own_parameters and code in PARAMETER_CODES):
        return Verdict.FAIL
    if error.category is ErrorCategory.TRANSIENT:
        return Verdict.RETRY
    return Verdict.STOP


def wa_number(e164: str) -> str:
    """`+15551234567` → `15551234567`, as the Cloud API's examples write `to`."""
    return e164.removeprefix("+")


def pair_delay_s(tries: int, base_s: float) -> float:
    """Meta's advice for 131056: wait base ** n seconds after the n-th refusal (4, 16, 64 s)."""
    return float(base_s**tries)


def retry_delay_s(tries: int, backoff_s: list[float]) -> float:
    return backoff_s[min(tries, len(backoff_s)) - 1]


@dataclass(frozen=True)
class Failure:
    code: str | None
    message: str
    category: str
    remediation: str | None = None

    @classmethod
    def of(cls, error: PlatformError) -> Failure:
        return cls(error.code, error.message, error.category.value, error.remediation)


@dataclass(frozen=True)
class Pending:
    not_before: float
    tries: int = 0  # transient failures so far
    pair_tries: int = 0  # 131056 refusals so far
    code: str | None = None


@dataclass
class Progress:
    """The checkpoint of a batch: who has a message, who failed, who waits, uploaded media."""

    sent: dict[str, str] = field(default_factory=dict)
    failed: dict[str, Failure] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Progress:
        """Read `to_data`'s lists of objects (recipient ids and URLs are never document keys:
        keys with dots are refused; FerretDB also refuses nested arrays)."""
        progress = cls()
        for item in data.get("sent") or []:
            progress.sent[str(item["recipient_id"])] = str(item["message_id"])
        for item in data.get("failed") or []:
            fields = dict(item)
            rid = str(fields.pop("recipient_id"))
            progress.failed[rid] = Failure(**fields)
        for item in data.get("pending") or []:
            fields = dict(item)
            rid = str(fields.pop("recipient_id"))
            progress.pending[rid] = Pending(**fields)
        for item in data.get("media") or []:
            progress.media[str(item["url"])] = str(item["id"])
        return progress

    def to_data(self) -> dict[str, Any]:
        return {
            "sent": [{"recipient_id": r, "message_id": m} for r, m in self.sent.items()],
            "failed": [{"recipient_id": k, **asdict(v)} for k, v in self.failed.items()],
            "pending": [{"recipient_id": k, **asdict(v)} for k, v in self.pending.items()],
            "media": [{"url": url, "id": media_id} for url, media_id in self.media.items()],
        }

    def settled(self, recipient_id: str) -> bool:
        return recipient_id in self.sent or recipient_id in self.failed

    def accept(self, recipient_id: str, message_id: str) -> None:
        self.sent[recipient_id] = message_id
        self.pending.pop(recipient_id, None)

    def fail(self, recipient_id: str, failure: Failure) -> None:
        self.failed[recipient_id] = failure
        self.pending.pop(recipient_id, None)

    def pair_refused(
        self, rid: str, error: PlatformError, now: float, *, base_s: float, max_tries: int
    ) -> bool:
        """131056: wait `pair_delay_s` after the n-th refusal; False (failed) after the last."""
        before = self.pending.get(rid, Pending(0.0))
        tries = before.pair_tries + 1
        again = Pending(now + pair_delay_s(tries, base_s), before.tries, tries, error.code)
        return self._wait_or_fail(rid, error, again, tries < max_tries)

    def transient(
        self, rid: str, error: PlatformError, now: float, *, backoff_s: list[float], max_tries: int
    ) -> bool:
        """A transient or ambiguous answer: wait the next backoff; False (failed) after the last."""
        before = self.pending.get(rid, Pending(0.0))
        tries = before.tries + 1
        again = Pending(now + retry_delay_s(tries, backoff_s), tries, before.pair_tries, error.code)
        return self._wait_or_fail(rid, error, again, tries < max_tries)

    def _wait_or_fail(self, rid: str, error: PlatformError, again: Pending, waits: bool) -> bool:
        if waits:
            self.pending[rid] = again
        else:
            self.fail(rid, Failure.of(error))
        return waits

    def due(self, recipients: Iterable[WhatsAppRecipient], now: float) -> list[WhatsAppRecipient]:
        return [
            r
            for r in recipients
            if not self.settled(r.recipient_id)
            and (
                r.recipient_id not in self.pending or self.pending[r.recipient_id].not_before <= now
            )
        ]

    def open(self, recipients: Iterable[WhatsAppRecipient]) -> list[WhatsAppRecipient]:
        return [r for r in recipients if not self.settled(r.recipient_id)]

    def next_due(self) -> float | None:
        return min((p.not_before for p in self.pending.values()), default=None)

    def outcomes(self, recipients: Iterable[WhatsAppRecipient]) -> tuple[RecipientOutcome, ...]:
        found: list[RecipientOutcome] = []
        for r in recipients:
            rid = r.recipient_id
            if rid in self.sent:
                found.append(
                    RecipientOutcome(recipient_id=rid, message_id=self.sent[rid], status="accepted")
                )
            elif rid in self.failed:
                failure = self.failed[rid]
                found.append(
                    RecipientOutcome(
                        recipient_id=rid,
                        status="failed",
                        error_code=failure.code,
                        error_message=failure.message,
                        remediation=failure.remediation,
                    )
                )
        return tuple(found)

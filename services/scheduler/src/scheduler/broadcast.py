"""Splitting a broadcast into batches, as pure rules
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

The audience's contacts are taken in phone order. A contact that did not opt in, opted out or
was found undeliverable is excluded (counted, never a recipient). Each other contact becomes a
recipient whose id is its contact id (stable for that contact in that post, so a redelivered
batch reaches the same people under the same ids) with its own template components; a contact
whose parameters cannot be filled or break WhatsApp's limits is a skipped recipient, with the
reason. Recipients go in batches of at most N, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from herald.content import (
    PostContent,
    TemplateComponent,
    WhatsAppOptions,
    WhatsAppRecipient,
    WhatsAppTemplate,
)
from herald.events import Violation
from herald.rules import check_target
from herald.rules.limits import WHATSAPP
from herald.topics import Platform
from scheduler.contacts import Contact, ContactStatus, contact_status, template_values
from scheduler.personalize import MissingField, render, split_template

SHORTEST = min(
    WHATSAPP.header_text_param_max_chars,
    WHATSAPP.body_text_param_max_chars,
    WHATSAPP.body_only_text_param_max_chars,
)


@dataclass(frozen=True)
class Planned:
    recipient_id: str
    to: str
    components: list[dict[str, Any]] | None = None
    error: dict[str, str] | None = None  # why it is skipped
    name: str | None = None


@dataclass
class Plan:
    batches: list[list[Planned]] = field(default_factory=list)
    skipped: list[Planned] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)

    @property
    def recipients(self) -> int:
        return sum(len(b) for b in self.batches)


def plan_broadcast(
    contacts: Sequence[Contact],
    flags: Mapping[str, Collection[str]],
    taken: Collection[str],
    *,
    template: WhatsAppTemplate,
    content: PostContent,
    batch_size: int,
) -> Plan:
    """Batches of the `contacts` not `taken` already (by an earlier, interrupted expansion);
    `flags` are the business's suppressions by phone."""
    plan = Plan()
    shared, personal = split_template(template)
    sendable: list[Planned] = []
    for contact in sorted(contacts, key=lambda c: c.phone):
        if contact.id in taken:
            continue
        status = contact_status(contact.opted_in, flags.get(contact.phone, ()))
        if status is not ContactStatus.SUBSCRIBED:
            plan.excluded[status.value] += 1
            continue
        planned = personalized(contact, shared, personal, content)
        (plan.skipped if planned.error else sendable).append(planned)
    plan.batches = chunked(sendable, batch_size)
    return plan


def personalized(
    contact: Contact,
    shared: WhatsAppTemplate,
    personal: Sequence[TemplateComponent],
    content: PostContent,
) -> Planned:
    identity = Planned(recipient_id=contact.id, to=contact.phone, name=contact.name)
    if not personal:
        return identity
    try:
        components = render(personal, template_values(contact))
    except MissingField as missing:
        message = f"The contact has no {missing.key} for the template, and it has no fallback."
        return replace(identity, error={"code": "missing_field", "message": message})
    problems = [] if _short(components) else _problems(contact, components, shared, content)
    if problems:
        first = problems[0]
        message = f"{first.message} ({first.path.removeprefix('options.recipients[0].')})"
        return replace(identity, error={"code": first.code, "message": message})
    return replace(identity, components=[c.model_dump(mode="json") for c in components])


def _short(components: Sequence[TemplateComponent]) -> bool:
    """Every filled value within the smallest of WhatsApp's parameter limits: filling changes
    nothing else a rule looks at (types stay, values are never empty), so nothing can break."""
    return all(
        len(value or "") <= SHORTEST
        for c in components
        for p in c.parameters
        for value in (p.text, p.payload)
    )


def _problems(
    contact: Contact,
    components: list[TemplateComponent],
    shared: WhatsAppTemplate,
    content: PostContent,
) -> list[Violation]:
    """What WhatsApp's rules (`herald.rules`) say about this recipient's own components."""
    recipient = WhatsAppRecipient(recipient_id=contact.id, to=contact.phone, components=components)
    options = WhatsAppOptions(template=shared, recipients=[recipient])
    return [
        v
        for v in check_target(content, Platform.WHATSAPP, options)
        if v.path.startswith("options.recipients")
    ]


def chunked(recipients: Sequence[Planned], size: int) -> list[list[Planned]]:
    return [list(recipients[i : i + size]) for i in range(0, len(recipients), size)]


def batch_options(
    spec_options: Mapping[str, Any], shared: WhatsAppTemplate, members: Sequence[Planned]
) -> dict[str, Any]:
    """The `post.requested` options of one batch: the shared template, and each recipient with
    its id, number and own components."""
    recipients = [
        WhatsAppRecipient.model_validate(
            {"recipient_id": m.recipient_id, "to": m.to, "components": m.components}
        )
        for m in members
    ]
    options = WhatsAppOptions(
        template=shared,
        preview_url=bool(spec_options.get("preview_url", False)),
        recipients=recipients,
    )
    return options.model_dump(mode="json")


def broadcast_template(spec_options: Mapping[str, Any]) -> WhatsAppTemplate:
    """The template of a broadcast target's options (JSON, as submitted)."""
    return WhatsAppTemplate.model_validate(spec_options["template"])


def shared_template(spec_options: Mapping[str, Any]) -> WhatsAppTemplate:
    """The broadcast's template with only the components every recipient shares."""
    return split_template(broadcast_template(spec_options))[0]

"""WhatsApp Cloud API messages to a batch of recipients: free-form (text, or one media item with
a caption) or an approved template (§3.2). Template details live in `whatsapp_templates`.

Free-form messages reach only people inside their 24-hour reply window, which Herald cannot
know for an audience or a batch; so anything sent to more than one person needs a template.
"""

from __future__ import annotations

from herald.content import MediaKind, PostContent, WhatsAppOptions
from herald.events import Violation
from herald.rules.common import (
    Code,
    Where,
    check_length,
    check_media_item,
    item_name,
    plural,
    violation,
)
from herald.rules.limits import WhatsAppLimits
from herald.rules.whatsapp_templates import check_template


def check(
    content: PostContent, options: WhatsAppOptions, where: Where, limits: WhatsAppLimits
) -> list[Violation]:
    found = [*_check_audience(options, where), *_check_duplicates(options, where)]
    if options.template is not None:
        found.extend(check_template(options, where, limits))
    else:
        found.extend(_check_free_form(content, where, limits))
    return found


def _check_audience(options: WhatsAppOptions, where: Where) -> list[Violation]:
    if not options.recipients and options.audience_id is None:
        message = "A WhatsApp message needs at least one recipient or an audience."
        return [violation(where.option("recipients"), Code.REQUIRED, message)]
    broadcast = options.audience_id is not None or len(options.recipients) > 1
    if broadcast and options.template is None:
        message = (
            "A WhatsApp message to an audience or to several recipients needs an approved "
            "template: WhatsApp delivers free-form messages only within 24 hours of the "
            "recipient's last message."
        )
        return [violation(where.option("template"), Code.REQUIRED, message)]
    return []


def _check_duplicates(options: WhatsAppOptions, where: Where) -> list[Violation]:
    """Each repeat after the first is reported, so the path points at the one to remove."""
    found: list[Violation] = []
    seen_ids: set[str] = set()
    seen_numbers: set[str] = set()
    for i, recipient in enumerate(options.recipients):
        if recipient.recipient_id in seen_ids:
            message = (
                f'The recipient id "{recipient.recipient_id}" is used more than once; each '
                "recipient needs its own, so that its delivery can be reported."
            )
            path = where.option("recipients", i, "recipient_id")
            found.append(violation(path, Code.DUPLICATE, message))
        if recipient.to in seen_numbers:
            message = f"{recipient.to} is listed more than once and would get the message twice."
            found.append(violation(where.option("recipients", i, "to"), Code.DUPLICATE, message))
        seen_ids.add(recipient.recipient_id)
        seen_numbers.add(recipient.to)
    return found


def _check_free_form(content: PostContent, where: Where, limits: WhatsAppLimits) -> list[Violation]:
    if not (content.text or content.media):
        message = "A WhatsApp message needs text, a media item or a template."
        return [violation(where.content, Code.REQUIRED, message)]
    found: list[Violation] = []
    if len(content.media) > limits.media_max_items:
        message = (
            f"A WhatsApp message can carry {plural(limits.media_max_items, 'media item')}; "
            f"this one has {len(content.media)}."
        )
        found.append(violation(where.at("media"), Code.TOO_MANY, message))
    found.extend(_check_items(content, where, limits))
    if content.media:
        limit, what = limits.caption_max_chars, "WhatsApp media captions"
    else:
        limit, what = limits.text_max_chars, "WhatsApp messages"
    found.extend(check_length(content.text, limit=limit, path=where.text(), what=what))
    return found


def _check_items(content: PostContent, where: Where, limits: WhatsAppLimits) -> list[Violation]:
    specs = {
        MediaKind.IMAGE: limits.image,
        MediaKind.VIDEO: limits.video,
        MediaKind.DOCUMENT: limits.document,
    }
    found: list[Violation] = []
    for index, media in enumerate(content.media):
        found.extend(check_media_item(media, index, specs[media.kind], where))
        wants_name = media.kind is MediaKind.DOCUMENT and limits.document_requires_filename
        if wants_name and not media.filename:
            message = (
                f"A WhatsApp document needs a file name (with its extension) to show the "
                f"recipient; {item_name(index)} has none."
            )
            found.append(violation(where.media(index, "filename"), Code.REQUIRED, message))
    return found

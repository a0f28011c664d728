"""A WhatsApp integration's registered message templates, read from the platform for the
scheduler's submission check (issue 16, docs/adr/0018-honest-statuses-and-submission-checks.md).

auth-service answers because it holds the token; the scheduler keeps the answer for a while
and asks again when a post names a template it does not know (a template approved since).
"""

from __future__ import annotations

import structlog

from auth_service.errors import NotFound, ProviderUnavailable
from auth_service.handlers.base import Deps
from auth_service.handlers.lifecycle import owned
from auth_service.handlers.tokens import usable_token
from auth_service.ports import TemplateSource
from herald.errors import PlatformError
from herald.topics import Platform
from herald.whatsapp_registry import RegisteredTemplate

log = structlog.get_logger(__name__)


async def whatsapp_templates(
    deps: Deps, business_id: str, integration_id: str
) -> list[RegisteredTemplate]:
    """The templates of the integration's WhatsApp Business Account, as the platform lists
    them now: `NotFound` for another platform's integration, `NeedsReauthorization` for an
    unusable one, `ProviderUnavailable` when the platform does not answer."""
    integration = await owned(deps, business_id, integration_id)
    if integration.platform is not Platform.WHATSAPP:
        msg = f"integration {integration_id} is a {integration.platform.value} account: only "
        msg += "WhatsApp accounts have message templates"
        raise NotFound(msg)
    source = deps.providers.get(Platform.WHATSAPP)
    if not isinstance(source, TemplateSource):
        msg = "this auth-service has no WhatsApp provider configured"
        raise ProviderUnavailable(msg)
    usable = await usable_token(deps, business_id, integration_id)
    try:
        listed = await source.message_templates(usable.integration, usable.access_token)
    except PlatformError as exc:
        log.warning("whatsapp.templates_failed", code=exc.code, error=exc.message)
        msg = f"WhatsApp did not list the templates: {exc.message}"
        raise ProviderUnavailable(msg) from exc
    return [RegisteredTemplate.from_graph(item) for item in listed]

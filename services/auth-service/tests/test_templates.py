"""A WhatsApp account's registered templates, read from the platform for the scheduler's
submission check (issue 16, ADR 0018), against the sandbox."""

from __future__ import annotations

import pytest

from auth_service.testing import SERVICE_TOKENS, WorldFactory

pytestmark = pytest.mark.connected

SCHEDULER = {"Authorization": f"Bearer {SERVICE_TOKENS['scheduler']}"}
PUBLISHER = {"Authorization": f"Bearer {SERVICE_TOKENS['publisher-whatsapp']}"}


async def test_the_scheduler_reads_a_whatsapp_accounts_templates(make_world: WorldFactory) -> None:
    world = await make_world()
    (number, *_) = await world.connect("whatsapp")
    (page, *_) = await world.connect("facebook")
    params = {"business_id": world.business_id}

    def url(integration: dict[str, str]) -> str:
        return f"/internal/v1/integrations/{integration['integration_id']}/whatsapp-templates"

    listed = await world.client.get(url(number), params=params, headers=SCHEDULER)
    as_publisher = await world.client.get(url(number), params=params, headers=PUBLISHER)
    of_a_page = await world.client.get(url(page), params=params, headers=SCHEDULER)

    assert listed.status_code == 200, listed.text
    templates = {(t["name"], t["language"]): t for t in listed.json()["templates"]}
    order = templates[("order_update", "en_US")]
    assert (order["status"], order["header"], order["header_params"]) == ("APPROVED", "image", 1)
    assert order["body_params"] == 2
    assert order["buttons"] == [{"sub_type": "url", "params": 1}]
    assert templates[("hello_world", "en_US")]["body_params"] == 0
    assert as_publisher.status_code == 403
    assert of_a_page.status_code == 404

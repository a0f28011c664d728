"""The checked-in AsyncAPI documents are what the apps generate today."""

from __future__ import annotations

import pytest

from herald_localstack import asyncapi

pytestmark = pytest.mark.unit


def test_checked_in_asyncapi_documents_match_the_apps() -> None:
    drift = asyncapi.check()
    assert drift == [], f"docs/asyncapi is out of date for {drift}: run `make contract`"


def test_every_consumed_and_produced_topic_has_an_event_schema() -> None:
    for service in ("scheduler", "publisher-whatsapp"):
        doc = asyncapi.document(service)
        for name, message in doc["components"]["messages"].items():
            assert "payload" in message, name
            text = str(message["payload"])
            assert "../events/herald." in text, (name, text)

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
        schemas = doc["components"]["schemas"]
        for name, message in doc["components"]["messages"].items():
            payload = message["payload"]
            refs = [r["$ref"] for r in payload.get("oneOf", [payload])]
            for ref in refs:
                event = schemas[ref.removeprefix("#/components/schemas/")]
                assert event["x-json-schema"].startswith("../events/herald."), (name, ref)
            assert message["headers"]["properties"]["ce_type"]["type"] == "string", name
            assert "key" in message["bindings"]["kafka"], name


def test_subscribers_name_their_consumer_group_and_submissions_their_signature() -> None:
    doc = asyncapi.document("scheduler")
    operation = doc["operations"]["on_submitted"]
    assert operation["bindings"]["kafka"]["groupId"]["enum"] == ["herald-scheduler.submitted"]
    assert operation["security"] == [{"$ref": "#/components/securitySchemes/signedSubmission"}]
    scheme = doc["components"]["securitySchemes"]["signedSubmission"]
    assert scheme["type"] == "asymmetricEncryption"
    for channel in doc["channels"].values():
        assert channel["bindings"]["kafka"]["partitions"] >= 1, channel["address"]

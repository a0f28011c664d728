"""Every request body Herald sends, as it leaves the real adapter, validates against Meta's
OpenAPI description of the Cloud API (fragments in `openapi/`, adjusted as its README says);
the webhook payloads the tests feed the receiver validate as `WebhookPayload` too."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Literal

import httpx
import pytest
from pydantic import SecretStr

from herald.graph import GraphClient, GraphSettings
from herald.runtime.ports import Checkpoint, Credentials, Published
from publisher_testenv.whatsapp import CloudApiContract
from publisher_whatsapp.adapters.cloud_api import GraphCloudApi
from publisher_whatsapp.handlers import FlowSettings, WhatsAppPublisher
from publisher_whatsapp.pace import Pacer
from publisher_whatsapp.settings import MediaSettings
from publisher_whatsapp.testing import (
    FakeMedia,
    MemoryFlags,
    MemoryMessages,
    RecordingObserver,
    status_delivery,
    whatsapp_request,
)

pytestmark = pytest.mark.unit

PHONE = "106540352242922"
JPG = "https://cdn.example/bread.jpg"
MP4 = "https://cdn.example/tour.mp4"
PDF = "https://cdn.example/menu.pdf"
PRIVATE = "https://private.example"
CREDENTIALS = Credentials("tok", PHONE, {"phone_number_id": PHONE})
ONE = [{"recipient_id": "r1", "to": "+15550001111"}]


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/media"):
            return httpx.Response(200, json={"id": "4490709327384033"})
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "15550001111", "wa_id": "15550001111"}],
            "messages": [{"id": f"wamid.{len(self.requests)}", "message_status": "accepted"}],
        }
        return httpx.Response(200, json=answer)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith("/messages")]


async def sent_bodies(
    request: Any, *, upload: Literal["auto", "always", "never"] = "never"
) -> tuple[Recorder, Published]:
    recorder = Recorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder.handler))
    settings = GraphSettings(base_url="https://graph.test", app_secret=SecretStr("s3cret"))
    api = GraphCloudApi(GraphClient(http, settings, platform="whatsapp"))
    flow = FlowSettings(media=MediaSettings(upload=upload, private_origins=[PRIVATE]))
    observer = RecordingObserver()
    publisher = WhatsAppPublisher(
        api, MemoryMessages(), MemoryFlags(), FakeMedia(), Pacer(lambda _: 1000.0), observer, flow
    )
    saved: list[Any] = []

    async def save(step: str, data: dict[str, Any]) -> None:
        saved.append(data)

    outcome = await publisher.publish(request, CREDENTIALS, Checkpoint(None, {}, save))
    await http.aclose()
    assert isinstance(outcome, Published)
    return recorder, outcome


TEMPLATE = {
    "name": "order_update",
    "language": "en_US",
    "components": [
        {"type": "header", "parameters": [{"type": "image", "link": JPG}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana"},
                {"type": "date_time", "text": "February 25, 1977"},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": 0,
            "parameters": [{"type": "text", "text": "o/42"}],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": 1,
            "parameters": [{"type": "payload", "payload": "STOP"}],
        },
    ],
}

CASES: dict[str, dict[str, Any]] = {
    "text with preview_url": {"text": "See https://bakery.example", "preview_url": True},
    "image by link with caption": {"text": "Rye", "media": [{"kind": "image", "url": JPG}]},
    "video by link": {"media": [{"kind": "video", "url": MP4}]},
    "document by link": {
        "text": "Menu",
        "media": [{"kind": "document", "url": PDF, "filename": "menu.pdf"}],
    },
    "template with header, body and buttons": {"template": TEMPLATE},
    "template without parameters": {"template": {"name": "hello_world", "language": "en_US"}},
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_every_body_herald_sends_is_a_valid_cloud_api_message(
    case: str, cloud_api: CloudApiContract
) -> None:
    recorder, _ = await sent_bodies(whatsapp_request("t1", ONE, **CASES[case]))

    [body] = recorder.bodies()
    assert cloud_api.message_errors(body) == []
    assert recorder.requests[0].headers["content-type"] == "application/json"


@pytest.mark.parametrize("kind", ["image", "video", "document"])
async def test_uploaded_media_go_by_id_and_are_valid_messages(
    kind: str, cloud_api: CloudApiContract
) -> None:
    media = [
        {"kind": kind, "url": f"{PRIVATE}/f.{kind}", "mime_type": "image/jpeg", "filename": "f.pdf"}
    ]
    request = whatsapp_request("t1", ONE, text="Here", media=media)

    recorder, _ = await sent_bodies(request, upload="auto")

    [body] = recorder.bodies()
    assert body[kind]["id"] == "4490709327384033"
    assert "link" not in body[kind]
    assert cloud_api.message_errors(body) == []


async def test_a_template_with_an_uploaded_header_is_valid(cloud_api: CloudApiContract) -> None:
    template = {
        "name": "order_update",
        "language": "en_US",
        "components": [
            {"type": "header", "parameters": [{"type": "image", "link": f"{PRIVATE}/h.jpg"}]}
        ],
    }
    recorder, _ = await sent_bodies(whatsapp_request("t1", ONE, template=template), upload="auto")

    [body] = recorder.bodies()
    header = body["template"]["components"][0]["parameters"][0]
    assert header == {"type": "image", "image": {"id": "4490709327384033"}}
    assert cloud_api.message_errors(body) == []


async def test_the_upload_is_the_multipart_form_of_the_description(
    cloud_api: CloudApiContract,
) -> None:
    media = [{"kind": "image", "url": f"{PRIVATE}/f.jpg", "mime_type": "image/jpeg"}]
    recorder, _ = await sent_bodies(whatsapp_request("t1", ONE, media=media), upload="always")

    upload = next(r for r in recorder.requests if r.url.path.endswith("/media"))
    content_type = upload.headers["content-type"]
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + upload.content
    parts = {
        p.get_param("name", header="content-disposition"): p
        for p in BytesParser(policy=HTTP).parsebytes(raw).iter_parts()
    }
    assert set(parts) >= {"file", "messaging_product"}
    assert set(cloud_api.upload_fields()["properties"]) == {"file", "messaging_product"}
    assert parts["messaging_product"].get_content().strip() == "whatsapp"
    assert parts["type"].get_content().strip() == "image/jpeg"  # Meta's curl form sends it too
    assert parts["file"].get_content_type() == "image/jpeg"
    assert upload.url.path == f"/v23.0/{PHONE}/media"


def test_the_file_as_published_refuses_metas_own_examples(
    cloud_api_verbatim: CloudApiContract, cloud_api: CloudApiContract
) -> None:
    """Why the README's adjustments exist: Meta's "Send Text Message" example and a template
    button at index "0" fail the file as written, and pass once adjusted."""
    text = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"body": "text-message-content", "preview_url": False},
    }
    button = {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": "P"}],
    }

    assert cloud_api_verbatim.errors("TextMessage", text) != []
    assert cloud_api_verbatim.errors("ButtonComponent", button) != []
    assert cloud_api.errors("TextMessage", text) == []
    assert cloud_api.errors("ButtonComponent", button) == []


def test_the_adjusted_schemas_still_refuse_what_meta_refuses(cloud_api: CloudApiContract) -> None:
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "1"}
    both = base | {"type": "image", "image": {"id": "1", "link": "https://x/y.jpg"}}
    stray = base | {"type": "text", "text": {"body": "hi"}, "surprise": True}
    no_policy = base | {"type": "template", "template": {"name": "n", "language": {"code": "en"}}}

    assert cloud_api.message_errors(both) != []  # MediaObject is id xor link
    assert cloud_api.message_errors(stray) != []  # unevaluatedProperties still closes it
    assert cloud_api.message_errors(no_policy) != []  # LanguageObject requires policy


def test_the_webhook_payloads_used_in_tests_are_valid(cloud_api: CloudApiContract) -> None:
    failed = status_delivery(PHONE, [("wamid.1", "failed", 131026)])
    mixed = status_delivery(PHONE, [("wamid.1", "sent", None), ("wamid.2", "read", None)])

    assert cloud_api.errors("WebhookPayload", json.loads(failed)) == []
    assert cloud_api.errors("WebhookPayload", json.loads(mixed)) == []


def test_the_send_answer_is_a_message_response_payload(cloud_api: CloudApiContract) -> None:
    answer = Recorder().handler(httpx.Request("POST", "https://graph.test/v23.0/1/messages"))

    assert cloud_api.errors("MessageResponsePayload", answer.json()) == []

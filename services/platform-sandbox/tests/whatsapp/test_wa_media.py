"""WhatsApp media (platform-apis.md §3.3): upload, read, download with the bearer token, use by
id, delete; type and size checks."""

from __future__ import annotations

import hashlib

import pytest

from platform_sandbox.media.synthetic import generate
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"


async def token(h: SandboxHarness) -> str:
    value: str = (await h.token("system_user", "1", assets=[h.demo.waba_id]))["access_token"]
    return value


async def upload(h: SandboxHarness, auth: str, data: bytes, mime: str) -> dict[str, object]:
    response = await h.client.post(
        f"{V}/{h.demo.phone_number_id}/media",
        headers={"Authorization": f"Bearer {auth}"},
        data={"messaging_product": "whatsapp", "type": mime},
        files={"file": ("photo", data, mime)},
    )
    body: dict[str, object] = response.json()
    return body


async def test_upload_read_download_send_delete(harness: SandboxHarness) -> None:
    auth = await token(harness)
    jpeg = b"".join(generate("jpg", 5000))
    media_id = (await upload(harness, auth, jpeg, "image/jpeg"))["id"]
    headers = {"Authorization": f"Bearer {auth}"}
    info = (await harness.client.get(f"{V}/{media_id}", headers=headers)).json()
    assert info["messaging_product"] == "whatsapp"
    assert (info["mime_type"], info["file_size"], info["id"]) == ("image/jpeg", "5000", media_id)
    assert info["sha256"] == hashlib.sha256(jpeg).hexdigest()
    url = str(info["url"])
    assert "/lookaside.fbsbx.com/whatsapp_business/attachments/?mid=" in url
    download = await harness.client.get(url, headers=headers)
    assert download.content == jpeg
    assert (await harness.client.get(url)).status_code == 401
    await harness.client.post(
        "/_sandbox/whatsapp/inbound",
        json={"phone_number_id": harness.demo.phone_number_id, "from": "1555"},
    )
    sent = await harness.client.post(
        f"{V}/{harness.demo.phone_number_id}/messages",
        headers=headers,
        json={
            "messaging_product": "whatsapp",
            "to": "1555",
            "type": "image",
            "image": {"id": media_id, "caption": "c"},
        },
    )
    assert sent.status_code == 200
    deleted = await harness.client.delete(f"{V}/{media_id}", headers=headers)
    assert deleted.json() == {"success": True}
    assert (await harness.client.get(f"{V}/{media_id}", headers=headers)).json()["error"][
        "code"
    ] == 100


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"".join(generate("png", 1000)), "image/jpeg"),
        (b"hello", "application/x-msdownload"),
        (b"".join(generate("jpg", 6 * 1024 * 1024)), "image/jpeg"),
    ],
)
async def test_upload_errors(harness: SandboxHarness, data: bytes, mime: str) -> None:
    body = await upload(harness, await token(harness), data, mime)
    error = body["error"]
    assert isinstance(error, dict)
    assert error["code"] == 131053


async def test_uploaded_media_expires_after_30_days(harness: SandboxHarness) -> None:
    auth = await token(harness)
    media_id = (await upload(harness, auth, b"".join(generate("jpg", 800)), "image/jpeg"))["id"]
    await harness.client.post(
        "/_sandbox/whatsapp/inbound",
        json={"phone_number_id": harness.demo.phone_number_id, "from": "1555"},
    )
    harness.sandbox.clock.advance(30 * 86400 + 1)
    await harness.client.post(
        "/_sandbox/whatsapp/inbound",
        json={"phone_number_id": harness.demo.phone_number_id, "from": "1555"},
    )
    sent = await harness.client.post(
        f"{V}/{harness.demo.phone_number_id}/messages",
        headers={"Authorization": f"Bearer {auth}"},
        json={
            "messaging_product": "whatsapp",
            "to": "1555",
            "type": "image",
            "image": {"id": media_id},
        },
    )
    assert sent.json()["error"]["code"] == 131009

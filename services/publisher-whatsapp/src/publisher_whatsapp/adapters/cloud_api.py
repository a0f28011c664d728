"""`CloudApi` on Graph (platform-apis.md §3.2, §3.3), through the shared `GraphClient`.

The Cloud API takes `/messages` as JSON (the OpenAPI request body is `application/json` only) and
`/media` as multipart; `GraphClient` sends form fields. `CloudGraphClient` adds the two body
kinds on top of the client's own sending, so classification, `appsecret_proof`, usage headers and
metrics stay the shared ones. (Proposed for `herald.graph.client` itself: `post_json` and
`post_multipart`.)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from herald.errors import PlatformError, Transient
from herald.graph import AmbiguousOutcome, GraphClient
from herald.graph.errors import RETRY

MESSAGES = "{phone}/messages"
MEDIA = "{phone}/media"


class CloudGraphClient(GraphClient):
    async def post_json(
        self, token: str, path: str, *, ids: Mapping[str, str], body: Mapping[str, Any]
    ) -> dict[str, Any]:
        proof = self.proof(token)
        request = self._http.build_request(
            "POST",
            self._url(path, ids, "graph"),
            headers={"Authorization": f"Bearer {token}"},
            params={"appsecret_proof": proof} if proof else None,
            json=dict(body),
        )
        return await self._timed(request, path)

    async def post_multipart(
        self,
        token: str,
        path: str,
        *,
        ids: Mapping[str, str],
        data: Mapping[str, str],
        files: Mapping[str, tuple[str, bytes, str]],
    ) -> dict[str, Any]:
        proof = self.proof(token)
        fields = dict(data) | ({"appsecret_proof": proof} if proof else {})
        request = self._http.build_request(
            "POST",
            self._url(path, ids, "graph"),
            headers={"Authorization": f"Bearer {token}"},
            data=fields,
            files=dict(files),
        )
        return await self._timed(request, path)

    async def _timed(self, request: httpx.Request, path: str) -> dict[str, Any]:
        endpoint = f"/{path}"
        began = time.perf_counter()
        try:
            body = await self._send(request, "POST", endpoint)
        except PlatformError as error:
            outcome = "ambiguous" if isinstance(error, AmbiguousOutcome) else error.category.value
            self._observe(endpoint, began, outcome)
            raise
        self._observe(endpoint, began, "ok")
        return body


class GraphCloudApi:
    def __init__(self, graph: CloudGraphClient) -> None:
        self._graph = graph

    async def send(self, token: str, phone_number_id: str, body: Mapping[str, Any]) -> str:
        answer = await self._graph.post_json(
            token, MESSAGES, ids={"phone": phone_number_id}, body=body
        )
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        if not isinstance(first, Mapping) or not first.get("id"):
            # A 200 without a message id: the send may have happened; resending risks a copy.
            raise AmbiguousOutcome(
                "WhatsApp accepted the call without a message id",
                remediation=RETRY,
                evidence={"answer": dict(answer)},
            )
        return str(first["id"])

    async def upload(
        self, token: str, phone_number_id: str, *, data: bytes, mime_type: str, filename: str
    ) -> str:
        answer = await self._graph.post_multipart(
            token,
            MEDIA,
            ids={"phone": phone_number_id},
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, data, mime_type)},
        )
        media_id = answer.get("id")
        if not media_id:
            raise Transient("WhatsApp answered the upload without a media id", remediation=RETRY)
        return str(media_id)

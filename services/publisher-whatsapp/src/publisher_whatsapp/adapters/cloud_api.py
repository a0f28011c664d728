"""`CloudApi` on Graph (platform-apis.md §3.2, §3.3), through the shared `GraphClient`.

The Cloud API takes `/messages` as JSON (the OpenAPI request body is `application/json` only) and
`/media` as multipart: `GraphClient.post_json` and `post_multipart`, so classification,
`appsecret_proof`, usage headers and metrics stay the shared ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.errors import Transient
from herald.graph import AmbiguousOutcome, GraphClient
from herald.graph.errors import RETRY

MESSAGES = "{phone}/messages"
MEDIA = "{phone}/media"


class GraphCloudApi:
    def __init__(self, graph: GraphClient) -> None:
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

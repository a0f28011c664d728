"""`GraphClient`: every Graph call Herald makes, classified once into `herald.errors`.

- The token travels in `Authorization: Bearer …`, never in a URL; with an app secret configured
  every call carries `appsecret_proof` (hex HMAC-SHA256 of the token keyed with the secret).
- POST bodies are form fields as Meta's SDKs send them: lists, objects and booleans
  JSON-encoded inside the field (`attached_media=[{"media_fbid":"1"}]`, `published=false`).
- Paths are templates (`{page}/feed`) filled from `ids`; the template is the metrics' endpoint
  label, so no id ever becomes a label.
- Rate-limit headers are read on every answer and exported; a throttling error carries the
  platform's `estimated_time_to_regain_access` as `retry_after_s`.
- A POST that may have taken effect without a clear answer (a timeout after sending, a dropped
  connection, a 5xx) raises `AmbiguousOutcome`, so the adapter can check before repeating it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import httpx

from herald.errors import AmbiguousOutcome, PlatformError, Transient
from herald.graph.errors import RETRY, Envelope, ambiguous, classify
from herald.graph.metrics import GraphMetrics
from herald.graph.settings import GraphSettings
from herald.graph.usage import parse_usage, regain_after_s

if TYPE_CHECKING:
    from herald.runtime.app import PublisherRuntime

Host = Literal["graph", "video", "instagram"]
Method = Literal["GET", "POST"]
# Failures that happen before the request left this process: nothing can have taken effect.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class GraphClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: GraphSettings,
        *,
        platform: str,
        metrics: GraphMetrics | None = None,
    ) -> None:
        self._http = http
        self._settings = settings
        self._platform = platform
        self._metrics = metrics
        secret = settings.app_secret
        self._secret = secret.get_secret_value().encode() if secret is not None else None

    @classmethod
    def for_publisher(cls, runtime: PublisherRuntime, settings: GraphSettings) -> GraphClient:
        """The client of a publisher: its own outbound HTTP client (closed with the service),
        calls counted and timed in its registry."""
        return cls(
            runtime.http_client(settings.http),
            settings,
            platform=runtime.platform,
            metrics=GraphMetrics.create(runtime.registry),
        )

    async def get(
        self,
        token: str,
        path: str,
        *,
        ids: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        host: Host = "graph",
    ) -> dict[str, Any]:
        return await self._call("GET", token, path, ids=ids, values=params, host=host)

    async def post(
        self,
        token: str,
        path: str,
        *,
        ids: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        host: Host = "graph",
    ) -> dict[str, Any]:
        return await self._call("POST", token, path, ids=ids, values=data, host=host)

    async def post_json(
        self,
        token: str,
        path: str,
        *,
        ids: Mapping[str, str] | None = None,
        body: Mapping[str, Any],
        host: Host = "graph",
    ) -> dict[str, Any]:
        """POST a JSON body (the WhatsApp Cloud API's `/messages` takes only JSON)."""
        proof = self.proof(token)
        request = self._http.build_request(
            "POST",
            self._url(path, ids or {}, host),
            headers={"Authorization": f"Bearer {token}"},
            params={"appsecret_proof": proof} if proof else None,
            json=dict(body),
        )
        return await self._exchange(request, "POST", f"/{path}")

    async def post_multipart(
        self,
        token: str,
        path: str,
        *,
        ids: Mapping[str, str] | None = None,
        data: Mapping[str, str],
        files: Mapping[str, tuple[str, bytes, str]],
        host: Host = "graph",
    ) -> dict[str, Any]:
        """POST form fields and files (media uploads)."""
        proof = self.proof(token)
        fields = dict(data) | ({"appsecret_proof": proof} if proof else {})
        request = self._http.build_request(
            "POST",
            self._url(path, ids or {}, host),
            headers={"Authorization": f"Bearer {token}"},
            data=fields,
            files=dict(files),
        )
        return await self._exchange(request, "POST", f"/{path}")

    def proof(self, token: str) -> str | None:
        if self._secret is None:
            return None
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    async def _call(
        self,
        method: Method,
        /,
        token: str,
        path: str,
        *,
        ids: Mapping[str, str] | None,
        values: Mapping[str, Any] | None,
        host: Host,
    ) -> dict[str, Any]:
        endpoint = f"/{path}"
        fields = form_fields(values or {})
        proof = self.proof(token)
        if proof is not None:
            fields["appsecret_proof"] = proof
        request = self._http.build_request(
            method,
            self._url(path, ids or {}, host),
            headers={"Authorization": f"Bearer {token}"},
            params=fields if method == "GET" else None,
            data=fields if method == "POST" else None,
        )
        return await self._exchange(request, method, endpoint)

    async def _exchange(
        self, request: httpx.Request, method: Method, endpoint: str
    ) -> dict[str, Any]:
        began = time.perf_counter()
        try:
            body = await self._send(request, method, endpoint)
        except PlatformError as error:
            self._observe(endpoint, began, _outcome(error))
            raise
        self._observe(endpoint, began, "ok")
        return body

    async def _send(self, request: httpx.Request, method: Method, endpoint: str) -> dict[str, Any]:
        evidence = {"endpoint": endpoint, "method": method}
        try:
            response = await self._http.send(request)
        except _NOT_SENT as exc:
            raise Transient(
                f"Graph could not be reached ({type(exc).__name__})",
                remediation=RETRY,
                evidence=evidence,
            ) from exc
        except httpx.HTTPError as exc:
            reason = f"no answer from Graph ({type(exc).__name__})"
            lost = Transient(reason, remediation=RETRY, evidence=evidence)
            raise (ambiguous(lost, "the call was sent") if method == "POST" else lost) from exc
        readings = parse_usage(response.headers)
        self._export(readings)
        body = _json(response)
        if response.is_success and isinstance(body, dict) and "error" not in body:
            return body
        evidence["http_status"] = str(response.status_code)
        error = classify(
            Envelope.parse(body),
            status=response.status_code,
            retry_after_s=regain_after_s(readings),
            evidence=evidence,
        )
        if method == "POST" and isinstance(error, Transient) and response.status_code >= 500:
            raise ambiguous(error, f"Graph answered HTTP {response.status_code}")
        raise error

    def _url(self, path: str, ids: Mapping[str, str], host: Host) -> str:
        bases = {
            "graph": self._settings.base_url,
            "video": self._settings.video_base_url,
            "instagram": self._settings.instagram_base_url,
        }
        base = bases[host]
        filled = path.format_map({k: quote(v, safe="") for k, v in ids.items()})
        return f"{base.rstrip('/')}/{self._settings.api_version}/{filled}"

    def _export(self, readings: list[Any]) -> None:
        if self._metrics is None:
            return
        for reading in readings:
            self._metrics.usage.labels(self._platform, reading.kind).set(reading.ratio)

    def _observe(self, endpoint: str, began: float, outcome: str) -> None:
        if self._metrics is None:
            return
        self._metrics.requests.labels(self._platform, endpoint, outcome).inc()
        seconds = time.perf_counter() - began
        self._metrics.seconds.labels(self._platform, endpoint).observe(seconds)


def form_fields(values: Mapping[str, Any]) -> dict[str, str]:
    """Values as Meta's SDKs put them in form fields: JSON for anything but text and numbers."""
    fields: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, str):
            fields[name] = value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            fields[name] = json.dumps(value, separators=(",", ":"))
        else:
            fields[name] = str(value)
    return fields


def _outcome(error: PlatformError) -> str:
    return "ambiguous" if isinstance(error, AmbiguousOutcome) else error.category.value


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None

"""Graph requests taken the way Graph takes them.

- The token comes as `Authorization: Bearer …` (or `OAuth …`) or as an `access_token` parameter.
- Parameters come from the query string and the body alike; bodies are JSON, form fields, or
  multipart (uploads). Meta's SDKs send lists, objects and booleans JSON-encoded inside form
  fields (`children=["1","2"]`, `published=false`) and some clients send PHP-style indexed keys
  (`attached_media[0]={"media_fbid":"1"}`); the typed accessors below accept every form.
- `appsecret_proof` is HMAC-SHA256 of the token keyed with the app secret, hex; the time-bound
  variant signs `token|appsecret_time` (security-reliability.md §1.2). Both are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.requests import Request

from platform_sandbox.graph_errors import GraphError, invalid_param, missing_param

SECRET_PARAMS = frozenset({"access_token", "appsecret_proof", "appsecret_time", "client_secret"})
_INDEXED = re.compile(r"^(?P<name>[a-z_]+)\[(?P<index>\d+)\]$")
_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no", ""})


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class GraphParams:
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    def require(self, name: str) -> str:
        value = self.text(name)
        if value is None or value == "":
            raise missing_param(name)
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise invalid_param(f"Param {name} must be a boolean")

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid_param(f"Param {name} must be an integer") from None

    def decoded(self, name: str) -> Any:
        """A value that may have arrived JSON-encoded in a form field."""
        value = self.values.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise invalid_param(f"Param {name} must be valid JSON") from None
        return value

    def array(self, name: str) -> list[Any] | None:
        """A list as JSON, a comma-separated string, or indexed keys `name[0]`, `name[1]`."""
        value = self.decoded(name)
        if value is None:
            indexed = self._indexed(name)
            return indexed or None
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        raise invalid_param(f"Param {name} must be an array")

    def _indexed(self, name: str) -> list[Any]:
        found: dict[int, Any] = {}
        for key in self.values:
            match = _INDEXED.match(key)
            if match and match["name"] == name:
                found[int(match["index"])] = self.decoded(key)
        return [found[i] for i in sorted(found)]

    def public(self) -> dict[str, Any]:
        """The parameters without secrets, as the ledger keeps them."""
        return {k: v for k, v in self.values.items() if k not in SECRET_PARAMS}


@dataclass
class GraphRequest:
    method: str
    host: str
    version: str | None
    segments: tuple[str, ...]
    params: GraphParams
    headers: dict[str, str]
    files: dict[str, Upload] = field(default_factory=dict)
    token: str | None = None

    @property
    def path(self) -> str:
        return "/".join(self.segments)


async def parse_graph_request(
    request: Request, host: str, version: str | None, segments: tuple[str, ...]
) -> GraphRequest:
    # Read the ASGI scope directly: this is the hot path, and header names there are already
    # lower-case bytes.
    scope = request.scope
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    query = scope["query_string"]
    values: dict[str, Any] = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    files: dict[str, Upload] = {}
    if scope["method"] in ("POST", "DELETE", "PUT"):
        await _read_body(request, headers, values, files)
    token = _bearer(headers.get("authorization")) or _param_token(values)
    return GraphRequest(
        method=scope["method"],
        host=host,
        version=version,
        segments=segments,
        params=GraphParams(values),
        headers=headers,
        files=files,
        token=token,
    )


async def _read_body(
    request: Request, headers: dict[str, str], values: dict[str, Any], files: dict[str, Upload]
) -> None:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if not body:
            return
        try:
            decoded = json.loads(body)
        except json.JSONDecodeError:
            raise invalid_param("Request body is not valid JSON") from None
        if not isinstance(decoded, dict):
            raise invalid_param("Request body must be a JSON object")
        values.update(decoded)
    elif content_type == "application/x-www-form-urlencoded":
        body = await request.body()
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif content_type == "multipart/form-data":
        # Closing the form releases the spooled temporary files of the uploads.
        async with request.form(max_part_size=200 * 1024 * 1024) as form:
            for key, item in form.multi_items():
                if isinstance(item, UploadFile):
                    data = await item.read()
                    files[key] = Upload(item.filename or key, item.content_type or "", data)
                else:
                    values[key] = item


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and credentials.strip():
        return credentials.strip()
    return None


def _param_token(values: dict[str, Any]) -> str | None:
    value = values.get("access_token")
    return value if isinstance(value, str) and value else None


def expected_proof(secret: str, token: str, appsecret_time: str | None) -> str:
    message = f"{token}|{appsecret_time}" if appsecret_time else token
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def check_appsecret_proof(
    req: GraphRequest, *, secret: str, required: bool, now: float, tolerance_s: int
) -> None:
    """Reject a wrong proof always, a missing one only when the app requires proofs."""
    proof = req.params.text("appsecret_proof")
    if proof is None:
        if required:
            raise GraphError(
                100,
                "API calls from the server require an appsecret_proof argument",
                type_="GraphMethodException",
            )
        return
    stamp = req.params.text("appsecret_time")
    valid = req.token is not None and hmac.compare_digest(
        proof.lower(), expected_proof(secret, req.token, stamp)
    )
    if valid and stamp is not None:
        valid = stamp.isdigit() and abs(now - int(stamp)) <= tolerance_s
    if not valid:
        raise GraphError(
            100,
            "Invalid appsecret_proof provided in the API argument",
            type_="GraphMethodException",
        )

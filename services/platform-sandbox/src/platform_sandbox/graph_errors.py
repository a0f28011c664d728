"""Meta's error envelope and the errors every Graph edge shares.

`{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_title",
"error_user_msg", "error_data", "fbtrace_id"}}` (platform-apis.md §5.2). Messages carry the
`(#code)` prefix Graph puts on them, except token errors, which Graph words on their own.
HTTP statuses follow Graph (mostly 400) and, for WhatsApp, Meta's Cloud API error table.
"""

from __future__ import annotations

from typing import Any

_NO_PREFIX = frozenset({190, 104})
# Cloud API error table (platform-apis.md §3.6); Graph answers 400 for almost everything else.
_WHATSAPP_STATUS = {
    0: 401,
    3: 403,
    10: 403,
    190: 401,
    368: 403,
    130429: 429,
    130497: 403,
    131000: 500,
    131005: 403,
    131016: 503,
    131031: 403,
    131057: 500,
    132001: 404,
}
_TRANSIENT = frozenset({1, 2, 4, 17, 32, 341, 613, 80001, 80002, 80007, 80008, 130429, 131000})


class GraphError(Exception):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int | None = None,
        type_: str = "OAuthException",
        details: str | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
    ) -> None:
        plain = code in _NO_PREFIX or message.startswith("(#")
        full = message if plain else f"(#{code}) {message}"
        super().__init__(full)
        self.code = code
        self.message = full
        self.subcode = subcode
        self.status = status
        self.type = type_
        self.details = details
        self.user_title = user_title
        self.user_msg = user_msg

    def http_status(self, platform: str) -> int:
        if self.status is not None:
            return self.status
        if platform == "whatsapp":
            return _WHATSAPP_STATUS.get(self.code, 400)
        return 500 if self.code in (1, 2) else 400

    def body(self, trace_id: str, platform: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.code in _TRANSIENT
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        if self.details is not None or platform == "whatsapp":
            error["error_data"] = _error_data(self.details or self.message, platform)
        error["fbtrace_id"] = trace_id
        return {"error": error}


def _error_data(details: str, platform: str) -> dict[str, str]:
    if platform == "whatsapp":
        return {"messaging_product": "whatsapp", "details": details}
    return {"details": details}


def unsupported(method: str, node_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{node_id}' does not exist, cannot "
        "be loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type_="GraphMethodException",
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(2500, f"Unknown path components: /{path}", type_="OAuthException", status=400)


def nonexisting_field(name: str, kind: str) -> GraphError:
    return GraphError(100, f"Tried accessing nonexisting field ({name}) on node type ({kind})")


def missing_param(name: str) -> GraphError:
    return GraphError(100, f"The parameter {name} is required")


def invalid_param(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(100, message, subcode=subcode)


def internal_error() -> GraphError:
    return GraphError(
        2, "An unexpected error has occurred. Please retry your request later.", status=500
    )

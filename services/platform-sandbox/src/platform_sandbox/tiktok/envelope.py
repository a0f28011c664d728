"""TikTok v2 answers: `{"data": {...}, "error": {"code": "ok", "message": "", "log_id"}}`, with
the string error codes and HTTP statuses of platform-apis.md §4.4."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from platform_sandbox.ids import trace_id


class TikTokError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.data = status, code, message, data or {}

    def response(self) -> JSONResponse:
        error = {"code": self.code, "message": self.message, "log_id": log_id()}
        return JSONResponse({"data": self.data, "error": error}, status_code=self.status)


def log_id() -> str:
    return "2026" + trace_id().upper().replace("-", "0").replace("_", "1")


def ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}})


def invalid_param(message: str) -> TikTokError:
    return TikTokError(400, "invalid_param", message)


def token_invalid() -> TikTokError:
    return TikTokError(
        401, "access_token_invalid", "The access token is invalid or not found in the request."
    )


def scope_not_authorized(scope: str) -> TikTokError:
    return TikTokError(
        401,
        "scope_not_authorized",
        f"The user did not authorize the scope required for completing this request: {scope}.",
    )


def rate_limited() -> TikTokError:
    return TikTokError(429, "rate_limit_exceeded", "The API rate limit was exceeded. Try later.")


def internal() -> TikTokError:
    return TikTokError(500, "internal_error", "Something went wrong. Please try again later.")

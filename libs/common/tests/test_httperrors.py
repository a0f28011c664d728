"""One error envelope (issue 19, finding 10): FastAPI's own answers (`{"detail": ...}` for a body
that fails validation, an unknown path, a wrong method) become `{"error", "message"}`, and the
OpenAPI document says so."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from herald.apierrors import Conflict
from herald.httperrors import install_error_envelope

pytestmark = pytest.mark.unit


class Thing(BaseModel):
    name: str
    size: int


def _app(*, owns: bool = True) -> FastAPI:
    app = FastAPI()
    install_error_envelope(
        app, owns=(lambda path: not path.startswith("/theirs")) if owns else None
    )

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.post("/theirs/things")
    async def theirs(thing: Thing) -> Thing:
        return thing

    @app.put("/conflict")
    async def conflict() -> None:
        raise Conflict("taken", integration_id="int_1")

    @app.get("/boom")
    async def boom() -> None:
        msg = "a bug"
        raise RuntimeError(msg)

    return app


async def _call(app: FastAPI, method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]  # test kwargs


async def test_a_body_that_fails_validation_answers_the_envelope_with_paths() -> None:
    answer = await _call(_app(), "POST", "/things", json={"name": 1, "size": "big"})
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) == {"error", "message", "violations"}
    assert body["error"] == "invalid_request"
    assert [v["path"] for v in body["violations"]] == ["name", "size"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("DELETE", "/things", 405, "method_not_allowed"),
        ("PUT", "/conflict", 409, "conflict"),
        ("GET", "/boom", 500, "internal_error"),
    ],
)
async def test_every_refusal_and_failure_answers_the_envelope(
    method: str, path: str, status: int, code: str
) -> None:
    answer = await _call(_app(), method, path)
    assert answer.status_code == status
    assert answer.json()["error"] == code
    assert isinstance(answer.json()["message"], str)


async def test_a_refusals_details_and_the_allowed_methods_are_kept() -> None:
    conflict = await _call(_app(), "PUT", "/conflict")
    wrong = await _call(_app(), "DELETE", "/things")
    assert conflict.json()["integration_id"] == "int_1"
    assert wrong.headers["allow"] == "POST"


async def test_paths_a_service_does_not_own_keep_the_frameworks_answers() -> None:
    answer = await _call(_app(), "POST", "/theirs/things", json={})
    assert answer.status_code == 422
    assert "detail" in answer.json()


def test_the_document_describes_422_as_the_envelope() -> None:
    document = _app(owns=False).openapi()
    schemas = document["components"]["schemas"]
    answer = document["paths"]["/things"]["post"]["responses"]["422"]
    assert "HTTPValidationError" not in schemas
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
    assert set(schemas["ErrorEnvelope"]["properties"]) == {"error", "message", "violations"}

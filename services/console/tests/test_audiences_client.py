"""`HttpAudiencesApi` against a table of the scheduler's answers (`httpx.MockTransport`): what it
sends (bearer, path, media type, query) and how an answer maps to a model or an `ApiError`."""

from __future__ import annotations

import httpx
import pytest

from console.audiences_client import HttpAudiencesApi
from console.client import ApiError

pytestmark = pytest.mark.unit

SCHEDULER = "http://scheduler.test"
REPORT = {
    "rows": 2,
    "imported": 1,
    "rejected_rows": 1,
    "problems": [
        {"line": 3, "row": 2, "field": "phone", "code": "invalid_phone", "message": "not E.164"}
    ],
}


def api(answer: httpx.Response | Exception, seen: list[httpx.Request]) -> HttpAudiencesApi:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return HttpAudiencesApi(http, scheduler_url=SCHEDULER)


async def test_an_import_sends_the_file_as_csv_and_reads_the_report() -> None:
    seen: list[httpx.Request] = []
    report = await api(httpx.Response(200, json=REPORT), seen).import_csv("k1", "au_1", b"a,b\n")
    [request] = seen
    assert (request.method, str(request.url)) == ("POST", f"{SCHEDULER}/v1/audiences/au_1/imports")
    assert request.headers["content-type"] == "text/csv"
    assert request.headers["authorization"] == "Bearer k1"
    assert request.content == b"a,b\n"
    assert (report.imported, report.problems[0].line, report.problems[0].field) == (1, 3, "phone")


@pytest.mark.parametrize(
    ("answer", "status", "message", "paths"),
    [
        (
            httpx.Response(
                422,
                json={
                    "message": "1 problem(s)",
                    "violations": [{"path": "line 2", "message": "no phone", "code": "x"}],
                },
            ),
            422,
            "1 problem(s)",
            ["line 2"],
        ),
        (httpx.Response(413, json={"message": "at most 20 MiB"}), 413, "at most 20 MiB", []),
        (httpx.Response(502, text="bad gateway"), 502, "bad gateway", []),
        (httpx.ConnectError("refused"), 503, "the scheduler did not answer", []),
    ],
)
async def test_refusals_become_api_errors(
    answer: httpx.Response | Exception, status: int, message: str, paths: list[str]
) -> None:
    with pytest.raises(ApiError) as raised:
        await api(answer, []).import_csv("k1", "au_1", b"x")
    assert raised.value.status == status
    assert raised.value.message.startswith(message)
    assert [v.path for v in raised.value.violations] == paths


async def test_whatsapp_posts_are_asked_for_by_platform_with_the_cursor() -> None:
    seen: list[httpx.Request] = []
    client = api(httpx.Response(200, json={"items": [], "next_cursor": None}), seen)
    found = await client.whatsapp_posts("k1", limit=20, cursor="abc")
    assert dict(seen[0].url.params) == {"platform": "whatsapp", "limit": "20", "cursor": "abc"}
    assert found.items == []

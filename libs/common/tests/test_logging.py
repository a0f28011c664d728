from __future__ import annotations

import json
import logging

import pytest
import structlog

from herald.logging import REDACTED, configure_logging, redact_value
from herald.settings import LogSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Authorization: Bearer EAAGm0PX4ZCpsBAKZA", f"Authorization: Bearer {REDACTED}"),
        ("key hk_3f9a_s3cr3tv4lu3xyz used", f"key hk_{REDACTED} used"),
        ("GET /me?access_token=EAAB123&fields=id", f"GET /me?access_token={REDACTED}&fields=id"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_secret_shapes_are_masked(raw: str, expected: str) -> None:
    assert redact_value(raw) == expected


def test_json_lines_with_secrets_masked_by_key(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(level="INFO", format="json"), service="test-svc")
    structlog.get_logger("t").info(
        "token.refreshed", access_token="EAAsecret", nested={"refresh_token": "r1", "n": 1}
    )
    logging.getLogger("uvicorn.error").warning("plain stdlib line with Bearer abcdefghijkl")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert lines[0]["event"] == "token.refreshed"
    assert lines[0]["service"] == "test-svc"
    assert lines[0]["access_token"] == REDACTED
    assert lines[0]["nested"] == {"refresh_token": REDACTED, "n": 1}
    assert lines[1]["event"] == f"plain stdlib line with Bearer {REDACTED}"
    assert lines[1]["level"] == "warning"

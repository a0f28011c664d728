"""structlog, configured in exactly one place for every Herald process.

JSON lines when stdout is not a terminal, a readable console otherwise. Standard-library loggers
(uvicorn, FastStream, aiokafka, pymongo) are routed through the same processors, so one process
writes one format. A redaction processor masks secrets by key name and by shape before anything
is rendered (see `../shared/reference/security-reliability.md` §8 as summarised in docs/runbook.md).
A line written inside a span carries its `trace_id` and `span_id` (`herald.tracing`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from herald.settings import LogSettings
from herald.tracing import add_trace_ids

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(^|_)(token|access_token|refresh_token|secret|password|authorization|api_key|apikey|"
    r"appsecret_proof|client_secret|code_verifier|cookie)($|_)",
    re.IGNORECASE,
)
# Shapes that are secrets wherever they appear inside a message or value.
_SECRET_SHAPES = (
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bhk_[A-Za-z0-9]+_[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)([?&](?:access_token|client_secret|appsecret_proof|code)=)[^&\s]+"),
)


def redact_value(value: str) -> str:
    """Mask secret-shaped substrings (bearer tokens, Herald API keys, token query parameters)."""
    value = _SECRET_SHAPES[0].sub(r"\1 " + REDACTED, value)
    value = _SECRET_SHAPES[1].sub("hk_" + REDACTED, value)
    return _SECRET_SHAPES[2].sub(r"\1" + REDACTED, value)


def _redact(obj: Any, depth: int = 0) -> Any:
    if depth > 5:
        return obj
    if isinstance(obj, str):
        return redact_value(obj)
    if isinstance(obj, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else _redact(v, depth + 1)
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return type(obj)(_redact(v, depth + 1) for v in obj)
    return obj


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets by key name and by shape, recursively."""
    event_dict.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    redacted: MutableMapping[str, Any] = _redact(event_dict)
    return dict(redacted)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        add_trace_ids,
        redact_secrets,
    ]


def configure_logging(settings: LogSettings, *, service: str) -> None:
    """Configure structlog and the standard library root logger for one service process."""
    use_json = settings.format == "json" or (settings.format == "auto" and not sys.stdout.isatty())
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    shared = _shared_processors()
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # Libraries that are chatty at INFO speak only when something is wrong.
    for name in ("aiokafka", "pymongo", "uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def adopt_library_loggers(prefix: str = "faststream") -> None:
    """FastStream gives its loggers their own coloured stdout handlers and stops propagation;
    route them through the root handler instead, so a process writes one format."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith(prefix) and isinstance(logger, logging.Logger):
            logger.handlers.clear()
            logger.propagate = True


def _identity(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    return event_dict

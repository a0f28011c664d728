"""Hand-written fakes of `herald` ports for tests: they record what happened and can fail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from herald.events import Event


@dataclass
class Emitted:
    event: Event
    topic: str
    key: str
    headers: dict[str, str]


@dataclass
class RecordingEmitter:
    """An `EventEmitter` that keeps every event; set `fail_with` to make the next emits raise."""

    emitted: list[Emitted] = field(default_factory=list)
    fail_with: Exception | None = None

    async def emit(
        self,
        event: Event,
        *,
        topic: str,
        key: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.emitted.append(Emitted(event, topic, key, dict(headers or {})))

    def of_type(self, cls: type[Event]) -> list[Event]:
        return [e.event for e in self.emitted if isinstance(e.event, cls)]

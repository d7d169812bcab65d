"""A notifier that keeps every event it is given."""

from __future__ import annotations

from workflows.events import Event


class RecordingNotifier:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

"""Server-sent events as the CLI reads them: ``parse_sse`` turns a stream's lines into events.

Follows the SSE wire format: ``field: value`` lines, a blank line ends an event, ``data`` lines
are joined with newlines, lines starting with ``:`` are comments (keep-alives) and are skipped,
an event without data is not dispatched, and an event the stream ends in the middle of is
dropped. Pure: no I/O.

Who calls it: ``stockade.cli.client`` (``rollout_events``), tests reading the API's streams.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: the event name when the stream gives none
DEFAULT_EVENT = "message"


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event."""

    event: str
    data: str
    id: str | None = None

    def json(self) -> dict[str, Any]:
        """``data`` as a JSON object (an empty dict if it is not one)."""
        try:
            value = json.loads(self.data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """The events in ``lines`` (without their line endings), in order."""
    event, data, event_id = DEFAULT_EVENT, list[str](), None
    for line in lines:
        if not line:
            if data:
                yield SseEvent(event=event, data="\n".join(data), id=event_id)
            event, data = DEFAULT_EVENT, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value or DEFAULT_EVENT
        elif name == "data":
            data.append(value)
        elif name == "id":
            event_id = value
    # an event the stream was cut in the middle of is dropped, as the SSE standard says

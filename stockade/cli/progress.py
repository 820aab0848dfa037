"""Following a rollout: its live state from the event stream, and a Rich progress bar per wave.

``RolloutView`` is what the CLI knows of a rollout: built from the API's rollout document and
kept current by the events of ``GET /api/v1/rollouts/{id}/events`` (``rollout``, ``wave``,
``tenant``). ``RolloutProgress`` draws one bar per wave on stderr (done of size, with the
succeeded and failed counts). ``follow_rollout`` drives both from the stream; if the stream
cannot be opened, sends an error or drops before the rollout settled, it reads the rollout
again every second and reconnects (a few times, then it only polls), so a proxy that breaks
streams slows the display down but never stops it. It returns the final rollout document.

Who calls it: ``stockade.cli.rollout`` (``apply``, ``rollout watch|resume|rollback --wait``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, Final

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from stockade.cli.client import ApiUnreachableError, StockadeClient
from stockade.cli.sse import SseEvent
from stockade.cli.states import DONE_STATUSES, LIVE_STATES, RolloutStateName, TenantStatusName

#: seconds between two readings of the rollout when the stream is not available
POLL_SECONDS: Final = 1.0
#: how many times a broken stream is opened again before the CLI only polls
MAX_RECONNECTS: Final = 3


class StreamEvent(StrEnum):
    """The events of ``GET /api/v1/rollouts/{id}/events``."""

    ROLLOUT = "rollout"
    WAVE = "wave"
    TENANT = "tenant"
    ERROR = "error"


def _counts(value: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


@dataclass
class WaveView:
    index: int
    name: str
    size: int
    counts: dict[str, int]

    @property
    def done(self) -> int:
        return sum(self.counts.get(status, 0) for status in DONE_STATUSES)

    def count(self, status: TenantStatusName) -> int:
        return self.counts.get(status, 0)


@dataclass
class RolloutView:
    """The rollout as far as the CLI knows it."""

    id: str
    state: RolloutStateName
    halt_reason: str | None
    waves: dict[int, WaveView] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> RolloutView:
        view = cls(
            id=str(document["id"]),
            state=RolloutStateName(document["state"]),
            halt_reason=document.get("halt_reason"),
        )
        for wave in document.get("waves") or ():
            view._wave(wave)
        return view

    @property
    def settled(self) -> bool:
        """The rollout left pending and running: nothing more will happen by itself."""
        return self.state not in LIVE_STATES

    def apply(self, event: SseEvent) -> bool:
        """Take in one event; False for an ``error`` event (the stream cannot go on)."""
        try:
            kind = StreamEvent(event.event)
        except ValueError:
            return True  # an event a newer server added: not for this client
        data = event.json()
        if kind is StreamEvent.ERROR:
            return False
        if kind is StreamEvent.ROLLOUT:
            self.state = RolloutStateName(data["state"])
            self.halt_reason = data.get("halt_reason")
        elif kind is StreamEvent.WAVE:
            self._wave(data)
        # tenant events carry nothing the bars show: the wave's counts follow them
        return True

    def _wave(self, data: Mapping[str, Any]) -> None:
        index = int(data["index"])
        self.waves[index] = WaveView(
            index=index,
            name=str(data.get("name", index)),
            size=int(data.get("size", 0)),
            counts=_counts(data.get("counts")),
        )


class RolloutProgress:
    """One progress bar per wave on ``console``; does nothing when not ``enabled``."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            disable=not enabled,
        )
        self._tasks: dict[int, TaskID] = {}

    def __enter__(self) -> RolloutProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def show(self, view: RolloutView) -> None:
        for index in sorted(view.waves):
            wave = view.waves[index]
            description = (
                f"{wave.name:<12} [green]✓ {wave.count(TenantStatusName.SUCCEEDED)}[/] "
                f"[red]✗ {wave.count(TenantStatusName.FAILED)}[/]"
            )
            task = self._tasks.get(index)
            if task is None:
                task = self._tasks[index] = self._progress.add_task(description, total=wave.size)
            self._progress.update(
                task, description=description, completed=wave.done, total=wave.size
            )


def _stream(client: StockadeClient, view: RolloutView, progress: RolloutProgress) -> None:
    """Apply the stream's events to ``view`` until it ends, drops or sends an error."""
    try:
        with closing(client.rollout_events(view.id)) as events:
            for event in events:
                if not view.apply(event):
                    return
                progress.show(view)
    except ApiUnreachableError:
        return  # the caller polls, and reconnects


def follow_rollout(
    client: StockadeClient,
    rollout_id: str,
    *,
    console: Console,
    show: bool,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Follow the rollout until it is no longer pending or running (see the module
    docstring); return its final document, with every tenant."""
    view = RolloutView.of(client.get_rollout(rollout_id))
    with RolloutProgress(console, enabled=show) as progress:
        progress.show(view)
        drops = 0
        while not view.settled:
            if drops <= MAX_RECONNECTS:
                _stream(client, view, progress)
                if view.settled:
                    break
                drops += 1
            sleep(POLL_SECONDS)
            view = RolloutView.of(client.get_rollout(rollout_id))
            progress.show(view)
    return client.get_rollout(rollout_id)

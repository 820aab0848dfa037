"""Stopping the process's background work promptly: one ``StopSignal`` per control plane.

Engine work runs in DBOS workflow threads that sleep between polls and retry transient AWS
errors. When the process stops, that work must end at once without recording anything: a step
that did not finish is re-run by DBOS at the next start (every step is idempotent), so ending it
early loses nothing, while letting it run on would retry against a sandbox or database that is
already gone. ``StopSignal.stop()`` makes every injected ``sleep`` and every AWS request raise
``EngineStopping``, a ``BaseException``, so the engine's ``except Exception`` handlers (which
fail a tenant or a rollout) and DBOS's step retries let it pass.

Who calls it: the composition root (``server.control``) builds one, injects ``sleep`` into the
engine and the rate budget and ``check`` into the AWS clients, and calls ``stop`` first thing in
``ControlPlane.close``; ``engine.wave_runner`` checks it after a wave's threads end.
"""

from __future__ import annotations

import threading

__all__ = ["EngineStopping", "StopSignal"]


class EngineStopping(BaseException):  # a signal like KeyboardInterrupt, not an error
    """The process is stopping: unwind without recording an outcome."""


class StopSignal:
    def __init__(self) -> None:
        self._event = threading.Event()

    def stop(self) -> None:
        self._event.set()

    @property
    def stopping(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise ``EngineStopping`` once ``stop`` was called."""
        if self._event.is_set():
            raise EngineStopping

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` that ends early, raising ``EngineStopping``, when ``stop`` is called."""
        if self._event.wait(max(0.0, seconds)):
            raise EngineStopping

"""One DBOS configured instance per class and process, rebound to new dependencies.

DBOS keeps configured instances in its process-wide registry for ever and refuses a second one
under the same name, so a process that starts a second engine (tests, a restart in place)
rebinds the instance it registered first instead of making another. ``BoundInstance.bind``
does that for each subclass (``NAME`` is its DBOS instance name).

Who calls it: ``engine.onboarding.Onboarding`` and ``engine.rollout_workflow.RolloutWorkflow``
derive from it; ``engine.runtime`` calls ``bind`` before ``DBOS.launch``.
"""

from __future__ import annotations

from typing import ClassVar, Generic, Self, TypeVar

from dbos import DBOSConfiguredInstance

__all__ = ["BoundInstance"]

DepsT = TypeVar("DepsT")


class BoundInstance(DBOSConfiguredInstance, Generic[DepsT]):
    #: the DBOS instance name
    NAME: ClassVar[str]

    def __init__(self, deps: DepsT) -> None:
        self.deps = deps
        super().__init__(self.NAME)

    @classmethod
    def bind(cls, deps: DepsT) -> Self:
        """The process's instance of this class, now working with ``deps``."""
        registered = cls.__dict__.get("_registered")
        if isinstance(registered, cls):
            registered.deps = deps
            return registered
        instance = cls(deps)
        cls._registered = instance  # type: ignore[attr-defined]
        return instance

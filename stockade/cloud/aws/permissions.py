"""What each adapter method needs from IAM: declared next to the code that makes the calls.

``@requires("organizations:CreateAccount", ...)`` on an adapter method records the IAM actions
the method's AWS calls need, as an attribute of the function (no registry, no global state).
``declared_actions(cls)`` reads them back for every method of an adapter class, so Stockade's
own least-privilege policies are generated from the code (``stockade iam policy``) and a test
can check that every public adapter method declares what it calls.

Who calls it: every adapter module in ``cloud.aws`` (declaring); the IAM policy generator and
its tests (reading).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Final, TypeVar

__all__ = ["declared_actions", "requires"]

_F = TypeVar("_F", bound=Callable[..., object])
ATTRIBUTE: Final = "__stockade_iam_actions__"


def requires(*actions: str) -> Callable[[_F], _F]:
    """Declare the IAM actions (``service:Action``) the decorated adapter method calls."""
    for action in actions:
        service, _, name = action.partition(":")
        if not service or not name or not name[0].isupper():
            raise ValueError(f"not an IAM action: {action!r} (expected 'service:ActionName')")

    def declare(function: _F) -> _F:
        setattr(function, ATTRIBUTE, frozenset(actions))
        return function

    return declare


def declared_actions(cls: type) -> dict[str, frozenset[str]]:
    """Method name → the IAM actions it declared, for every declaring method of ``cls``
    (inherited ones included)."""
    found: dict[str, frozenset[str]] = {}
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        actions = getattr(member, ATTRIBUTE, None)
        if actions is not None:
            found[name] = actions
    return found

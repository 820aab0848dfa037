"""What each adapter method needs from IAM: declared next to the code that makes the calls.

``@requires("organizations:CreateAccount", ...)`` on an adapter method records the IAM actions
the method's AWS calls need, as an attribute of the function (no registry, no global state).
``declared_actions(cls)`` reads them back for every method of an adapter class (``declared``
for one function), so Stockade's own least-privilege policies are generated from the code
(``stockade iam policy``, through ``cloud.aws.identities``) and a test can check that every
public adapter method declares what it calls.

Who calls it: every adapter module in ``cloud.aws`` (declaring); the IAM policy generator and
its tests (reading).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Final, TypeVar

__all__ = ["declared", "declared_actions", "requires"]

_F = TypeVar("_F", bound=Callable[..., object])
ATTRIBUTE: Final = "__stockade_iam_actions__"


def requires(*actions: str) -> Callable[[_F], _F]:
    """Declare the IAM actions (``service:Action``) the decorated adapter method calls.

    ``@requires()`` with none says, explicitly, that the method needs no permission (it makes
    no AWS call, or only ``sts:GetCallerIdentity``, which AWS allows even under a deny)."""
    for action in actions:
        service, _, name = action.partition(":")
        if not service or not name or not name[0].isupper():
            raise ValueError(f"not an IAM action: {action!r} (expected 'service:ActionName')")

    def declare(function: _F) -> _F:
        setattr(function, ATTRIBUTE, frozenset(actions))
        return function

    return declare


def declared(function: Callable[..., object]) -> frozenset[str] | None:
    """The IAM actions ``function`` declared (empty: it declared that it needs none), or None
    when it declared nothing at all."""
    actions = getattr(function, ATTRIBUTE, None)
    return actions if isinstance(actions, frozenset) else None


def declared_actions(cls: type) -> dict[str, frozenset[str]]:
    """Method name → the IAM actions it declared, for every declaring method of ``cls``
    (inherited ones included)."""
    found: dict[str, frozenset[str]] = {}
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        actions = declared(member)
        if actions is not None:
            found[name] = actions
    return found

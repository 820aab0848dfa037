"""Every adapter that implements a port declares, method by method, the IAM actions it needs,
and every declaring method is made by some identity (``cloud.aws.identities``).

A new public method without ``@requires`` fails here; so does one that declares actions but that
no identity is said to call (its actions would be missing from every generated policy).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import stockade.cloud.aws
from stockade.cloud import ports
from stockade.cloud.aws.cloudformation import CloudFormationStacks
from stockade.cloud.aws.identities import ORG_ACCESS_METHODS, USES, Use, declarations
from stockade.cloud.aws.permissions import declared, declared_actions, requires
from stockade.cloud.aws.sts import assume_role
from stockade.domain.iam import Identity, RoleSet


def _protocols() -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(ports, inspect.isclass)
        if cls.__module__ == ports.__name__ and getattr(cls, "_is_protocol", False)
    ]


def _members(protocol: type) -> set[str]:
    names: set[str] = set()
    for base in protocol.__mro__:
        if getattr(base, "_is_protocol", False) and base.__module__ == ports.__name__:
            names |= {n for n, v in vars(base).items() if callable(v) and not n.startswith("_")}
    return names


def port_adapters() -> list[type]:
    """Every class in ``cloud.aws`` that has all the methods of some port."""
    protocols = _protocols()
    found: list[type] = []
    for info in pkgutil.iter_modules(stockade.cloud.aws.__path__):
        module = importlib.import_module(f"stockade.cloud.aws.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            if any(all(hasattr(cls, name) for name in _members(p)) for p in protocols):
                found.append(cls)
    return found


def undeclared(cls: type) -> list[str]:
    """``Class.method`` for each public method of ``cls`` without a ``@requires``."""
    return [
        f"{cls.__name__}.{name}"
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and declared(member) is None
    ]


def _used(cls: type, method: str) -> bool:
    for use in USES:
        if (
            isinstance(use.owner, type)
            and issubclass(cls, use.owner)
            and (use.methods is None or method in use.methods)
        ):
            return True
    return cls is CloudFormationStacks and method in ORG_ACCESS_METHODS


def test_the_port_adapters_are_found() -> None:
    names = {cls.__name__ for cls in port_adapters()}
    assert {"AwsCloud", "Organizations", "CloudFormationStacks", "IamCredentials"} <= names


@pytest.mark.parametrize("adapter", port_adapters(), ids=lambda cls: cls.__name__)
def test_every_public_adapter_method_declares_its_iam_actions(adapter: type) -> None:
    missing = undeclared(adapter)
    assert not missing, (
        f"{', '.join(missing)}: declare the IAM actions the method calls with "
        "@requires('service:Action', ...) (cloud.aws.permissions), or @requires() if it calls none"
    )


@pytest.mark.parametrize("adapter", port_adapters(), ids=lambda cls: cls.__name__)
def test_every_declaring_method_is_made_by_an_identity(adapter: type) -> None:
    orphans = [
        f"{adapter.__name__}.{name}"
        for name, actions in declared_actions(adapter).items()
        if actions and not _used(adapter, name)
    ]
    assert not orphans, (
        f"{', '.join(orphans)}: say which identity calls it in cloud/aws/identities.py (USES), "
        "or its actions are in no generated policy"
    )


def test_a_method_without_a_declaration_is_caught() -> None:
    class Adapter:
        @requires("organizations:ListRoots")
        def roots(self) -> None: ...

        @requires()
        def factory(self) -> None: ...

        def forgotten(self) -> None: ...

    assert undeclared(Adapter) == ["Adapter.forgotten"]


def test_stockades_own_assume_role_is_declared() -> None:
    assert declared(assume_role) == frozenset({"sts:AssumeRole"})


def test_every_identity_has_declarations() -> None:
    by_identity: dict[Identity, set[str]] = {}
    for entry in declarations():
        by_identity.setdefault(entry.identity, set()).update(entry.actions)
    assert set(by_identity) == set(Identity)
    assert all(
        action.startswith("cloudformation:")
        for identity in (Identity.DEPLOY, Identity.READ)
        for action in by_identity[identity]
    )
    assert all(action.startswith("iam:") for action in by_identity[Identity.SCAN])


def test_a_use_naming_an_undeclared_method_fails_loudly() -> None:
    class Adapter:
        def forgotten(self) -> None: ...

    with pytest.raises(LookupError, match=r"Adapter\.forgotten declares no IAM actions"):
        declarations((Use(Identity.READ, Adapter, ("forgotten",)),))


def test_the_read_role_only_reads() -> None:
    actions = {
        action
        for entry in declarations()
        if entry.identity is Identity.READ
        for action in entry.actions
    }
    writes = [a for a in actions if not a.split(":", 1)[1].startswith(("Describe", "List", "Get"))]
    assert not writes


def test_sts_uses_say_whose_roles_they_assume() -> None:
    for entry in declarations():
        if any(action.startswith("sts:") for action in entry.actions):
            assert entry.assumes in set(RoleSet), entry.where

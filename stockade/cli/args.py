"""Parsing repeatable ``KEY=VALUE`` options (``--label``, ``--context``) the same way everywhere.

Who calls it: ``cli.tenant`` (labels), ``cli.policy_explain`` (condition keys).
"""

from __future__ import annotations

from stockade.domain.errors import ValidationError

__all__ = ["split_pair"]


def split_pair(value: str, *, option: str, example: str) -> tuple[str, str]:
    """``"env=prod"`` -> ``("env", "prod")``; ValidationError naming ``option`` otherwise."""
    key, sep, item = value.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValidationError(f"{option} {value!r} is not KEY=VALUE", hint=f"e.g. {example}")
    return key, item

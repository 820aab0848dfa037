"""Tests of ``MetaStore``: a small key/value table."""

from __future__ import annotations

import threading

import pytest

from stockade.domain.errors import ValidationError
from stockade.store import MetaStore


def test_get_set_overwrite(meta: MetaStore) -> None:
    assert meta.get("sandbox.id") is None
    meta.set("sandbox.id", "abc")
    assert meta.get("sandbox.id") == "abc"
    meta.set("sandbox.id", "def")
    assert meta.get("sandbox.id") == "def"
    meta.set("empty", "")
    assert meta.get("empty") == ""


def test_invalid_keys(meta: MetaStore) -> None:
    for key in ("", "k" * 101):
        with pytest.raises(ValidationError):
            meta.set(key, "v")


def test_concurrent_sets_of_a_new_key(meta: MetaStore) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            meta.set("race", str(n))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert meta.get("race") in {str(n) for n in range(8)}

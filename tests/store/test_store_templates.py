"""Tests of ``TemplateRepository``: bodies stored once by sha256, checked both ways."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from stockade.domain.errors import NotFoundError, StoreError
from stockade.store import Database
from stockade.store.models import TemplateRow
from stockade.store.templates import StoredTemplate, TemplateRepository, body_sha256


def template(body: str) -> StoredTemplate:
    return StoredTemplate(
        sha256=body_sha256(body),
        body=body,
        parameters=frozenset({"TenantId"}),
        resources={"Topic": "AWS::SNS::Topic"},
    )


def test_save_once_and_read_back(db: Database) -> None:
    repo = TemplateRepository(db)
    one, two = template("Resources: {A: 1}\n"), template("Resources: {B: 2}\n")
    assert repo.save_all([one, two, one]) == 2
    assert repo.save_all([one]) == 0
    fresh = TemplateRepository(db)  # no cache
    assert fresh.get(one.sha256) == one
    assert set(fresh.get_many([one.sha256, two.sha256, "0" * 64])) == {one.sha256, two.sha256}
    with pytest.raises(NotFoundError, match="not stored"):
        fresh.get("f" * 64)


def test_a_body_that_does_not_match_its_hash_is_refused(db: Database) -> None:
    repo = TemplateRepository(db)
    bad = StoredTemplate(sha256="0" * 64, body="Resources: {}\n")
    with pytest.raises(StoreError, match="does not match"):
        repo.save_all([bad])
    good = template("Resources: {C: 3}\n")
    repo.save_all([good])
    with db.session() as session:
        session.execute(
            update(TemplateRow).where(TemplateRow.sha256 == good.sha256).values(body="tampered")
        )
    with pytest.raises(StoreError, match=r"stored template \w+ does not match"):
        TemplateRepository(db).get(good.sha256)

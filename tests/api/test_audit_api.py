"""The audit routes: list with filters, and verify reporting each tampering with the chain.

The tampering is done directly in the database (``api.store_support``), as someone with SQL
access would; verification must report every problem and the first broken link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.fakes import bearer
from api.store_support import StoreParts, delete_event, edit_event, swap_events

AUDITOR = bearer("approver")


def _fill(store: StoreParts, count: int) -> None:
    for i in range(1, count + 1):
        store.audit.append("alice" if i % 2 else "bob", "test.event", f"subject-{i}", {"i": i})


def _verify(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/audit/verify", headers=AUDITOR)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _list(client: TestClient, query: str = "") -> list[int]:
    response = client.get(f"/api/v1/audit{query}", headers=AUDITOR)
    assert response.status_code == 200, response.text
    return [event["seq"] for event in response.json()["items"]]


def test_list_filters_newest_first(client: TestClient, store: StoreParts) -> None:
    _fill(store, 5)
    store.audit.append("carol", "tenant.create", "acme", {"tier": "pro"})
    assert _list(client) == [6, 5, 4, 3, 2, 1]
    assert _list(client, "?actor=bob") == [4, 2]
    assert _list(client, "?action=tenant.create") == [6]
    assert _list(client, "?subject=subject-3&actor=alice") == [3]
    assert _list(client, "?limit=2") == [6, 5]
    [event] = client.get("/api/v1/audit?subject=acme", headers=AUDITOR).json()["items"]
    assert (event["actor"], event["action"], event["details"]) == (
        "carol",
        "tenant.create",
        {"tier": "pro"},
    )
    assert len(event["hash"]) == len(event["prev_hash"]) == 64


def test_since_takes_aware_and_naive_times(client: TestClient, store: StoreParts) -> None:
    _fill(store, 2)
    later = datetime.now(UTC) + timedelta(minutes=5)
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    assert _list(client, f"?since={later.isoformat().replace('+00:00', 'Z')}") == []
    assert _list(client, f"?since={earlier.replace(tzinfo=None).isoformat()}") == [2, 1]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?since=yesterday"])
def test_bad_filters_are_422(client: TestClient, query: str) -> None:
    assert client.get(f"/api/v1/audit{query}", headers=AUDITOR).status_code == 422


def test_an_intact_trail_verifies(client: TestClient, store: StoreParts) -> None:
    _fill(store, 4)
    assert _verify(client) == {"ok": True, "events": 4, "problems": [], "first_broken_seq": None}


def test_an_edited_event_is_reported(client: TestClient, store: StoreParts) -> None:
    _fill(store, 6)
    edit_event(store.db, 3, {"i": 333})
    result = _verify(client)
    assert result["ok"] is False
    assert result["first_broken_seq"] == 3
    assert [(p["seq"], p["kind"]) for p in result["problems"]] == [(3, "edited")]
    assert "does not match its hash" in result["problems"][0]["message"]


def test_a_deleted_event_is_reported(client: TestClient, store: StoreParts) -> None:
    _fill(store, 6)
    delete_event(store.db, 4)
    result = _verify(client)
    assert (result["ok"], result["events"], result["first_broken_seq"]) == (False, 5, 4)
    assert [(p["seq"], p["kind"]) for p in result["problems"]] == [(4, "missing")]


def test_reordered_events_are_reported(client: TestClient, store: StoreParts) -> None:
    _fill(store, 6)
    swap_events(store.db, 2, 5)
    result = _verify(client)
    assert result["first_broken_seq"] == 2
    assert [(p["seq"], p["kind"]) for p in result["problems"]] == [
        (2, "reordered"),
        (5, "reordered"),
    ]
    assert "recorded as seq 5" in result["problems"][0]["message"]


def test_every_problem_is_reported_with_the_first_broken_link(
    client: TestClient, store: StoreParts
) -> None:
    _fill(store, 9)
    edit_event(store.db, 7, {"i": "rewritten"})
    swap_events(store.db, 4, 5)
    delete_event(store.db, 2)
    result = _verify(client)
    assert result["first_broken_seq"] == 2
    assert [(p["seq"], p["kind"]) for p in result["problems"]] == [
        (2, "missing"),
        (4, "reordered"),
        (5, "reordered"),
        (7, "edited"),
    ]

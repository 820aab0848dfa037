"""Health, metrics, OpenAPI and the handling of unexpected errors."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.fake_access import access_broker
from api.fake_org import explainer
from api.fake_rollouts import FakeRollouts
from api.fake_scans import FakeScans
from api.fakes import FixedPlans, InMemoryTenants, TokenAuthenticator, bearer
from api.store_support import StoreParts
from stockade.api.app import create_app
from stockade.domain.errors import TransientCloudError
from stockade.domain.tenant import Tenant, TenantState
from stockade.engine.facade import FleetSummary


def test_healthz_needs_no_token_and_shows_no_fleet_data(
    client: TestClient, tenants: InMemoryTenants
) -> None:
    tenants.put("acme", state=TenantState.ACTIVE)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/v1/tenants/some-secret-id", headers=bearer("viewer"))
    client.get("/api/v1/tenants")
    client.get("/no/such/path")
    response = client.get("/metrics", headers=bearer("viewer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'stockade_api_requests_total{method="GET",route="/api/v1/tenants/{tenant_id}",'
        'status="404"} 1.0' in text
    )
    assert 'route="/api/v1/tenants",status="401"} 1.0' in text
    assert 'route="<unmatched>",status="404"} 1.0' in text
    assert "stockade_api_request_duration_seconds_bucket" in text
    assert "some-secret-id" not in text


def test_each_app_has_its_own_metrics(store: StoreParts) -> None:
    first = TestClient(
        create_app(
            tenants=InMemoryTenants(),
            plans=FixedPlans(),
            rollouts=FakeRollouts(),
            policies=explainer(InMemoryTenants()),
            tokens=store.tokens,
            audit=store.audit,
            scans=FakeScans(),
            access=access_broker(InMemoryTenants().get_tenant, store),
            auth=TokenAuthenticator(),
            version="1",
        )
    )
    second = TestClient(
        create_app(
            tenants=InMemoryTenants(),
            plans=FixedPlans(),
            rollouts=FakeRollouts(),
            policies=explainer(InMemoryTenants()),
            tokens=store.tokens,
            audit=store.audit,
            scans=FakeScans(),
            access=access_broker(InMemoryTenants().get_tenant, store),
            auth=TokenAuthenticator(),
            version="1",
        )
    )
    for _ in range(3):
        first.get("/healthz")
    text = second.get("/metrics", headers=bearer("viewer")).text
    assert 'route="/healthz"' not in text


class _Exploding(InMemoryTenants):
    def list_tenants(self, **_: Any) -> list[Tenant]:
        raise RuntimeError("db password=hunter2 at /srv/secret.py line 3")

    def summary(self) -> FleetSummary:
        raise TransientCloudError("AWS throttled the call", hint="try again in a minute")


def test_unexpected_errors_are_500_without_details(store: StoreParts) -> None:
    app = create_app(
        tenants=_Exploding(),
        plans=FixedPlans(),
        rollouts=FakeRollouts(),
        policies=explainer(InMemoryTenants()),
        tokens=store.tokens,
        audit=store.audit,
        scans=FakeScans(),
        access=access_broker(InMemoryTenants().get_tenant, store),
        auth=TokenAuthenticator(),
        version="1",
    )
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/api/v1/tenants", headers=bearer("viewer"))
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "STK-0000"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "secret.py" not in response.text


def test_stockade_errors_keep_their_status_and_code(store: StoreParts) -> None:
    app = create_app(
        tenants=_Exploding(),
        plans=FixedPlans(),
        rollouts=FakeRollouts(),
        policies=explainer(InMemoryTenants()),
        tokens=store.tokens,
        audit=store.audit,
        scans=FakeScans(),
        access=access_broker(InMemoryTenants().get_tenant, store),
        auth=TokenAuthenticator(),
        version="1",
    )
    response = TestClient(app).get("/api/v1/fleet/summary", headers=bearer("viewer"))
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "STK-2100",
            "message": "AWS throttled the call",
            "hint": "try again in a minute",
        }
    }


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    assert client.get("/nope").json()["error"]["code"] == "STK-1200"
    response = client.delete("/api/v1/tenants", headers=bearer("admin"))
    assert response.status_code == 405
    assert set(response.json()["error"]) == {"code", "message", "hint"}
    assert "allow" in response.headers


def test_openapi_names_the_version(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]
    assert info == {**info, "title": "Stockade", "version": "9.9.9-test"}

"""The scan routes: ``POST /api/v1/scans/credentials`` (long-lived credentials in the fleet).

The handler is a thin, synchronous call on ``ScanOperations`` (``stockade.engine.facade``): it
answers once every account has been read. Who may call it is decided by
``stockade.api.access``; a tenant-scoped token scans only its own tenants (naming another one
is a 404, as for a tenant that does not exist).

Who calls it: ``stockade.api.app.create_app``.
"""

from __future__ import annotations

from fastapi import FastAPI

from stockade.api.routes import Caller, error_responses
from stockade.api.scan_schemas import ScanCredentialsIn, ScanOut
from stockade.api.scope import require_tenant
from stockade.engine.facade import ScanOperations


def add_scan_routes(app: FastAPI, *, scans: ScanOperations) -> None:
    """Register the scan routes on ``app``."""

    @app.post("/api/v1/scans/credentials", tags=["scans"], responses=error_responses(404))
    def scan_credentials(caller: Caller, body: ScanCredentialsIn | None = None) -> ScanOut:
        """Read every active or suspended tenant's account (or the named ones) through the
        scan role: IAM users' active access keys (age, last use), console passwords without
        MFA, and root access keys. Changes nothing; answers when every account is read. An
        account that cannot be read is listed under ``errors`` and never fails the scan."""
        named = body.tenants if body is not None else None
        if named is not None:
            for tenant_id in named:
                require_tenant(caller, tenant_id)
        scope = named if named is not None else caller.tenants
        return ScanOut.of(
            scans.scan_credentials(tenant_ids=None if scope is None else frozenset(scope))
        )

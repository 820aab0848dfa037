"""The Stockade REST API (FastAPI): `/api/v1` (tenants, fleet, plans, rollouts), `/healthz`,
`/metrics`.

Build it with ``stockade.api.app.create_app``; only the composition root (``stockade.server``)
imports this package.
"""

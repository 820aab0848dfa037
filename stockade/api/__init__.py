"""The Stockade REST API (FastAPI): `/api/v1` (tenants, fleet, plans, rollouts, policy, tokens,
audit), `/healthz`, `/metrics`.

Build it with ``stockade.api.app.create_app``; only the composition root (``stockade.server``)
imports this package.
"""

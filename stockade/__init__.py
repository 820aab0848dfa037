"""Stockade: the control plane for account-per-tenant SaaS on AWS.

Layers (see DESIGN.md, enforced by import-linter): domain and policy are pure; cloud holds the
AWS ports and adapters; store persists; engine runs durable workflows; api and cli are the edges;
server is the composition root that wires them together.
"""

__version__ = "0.1.0"

"""Stockade's own IAM policies for a fleet spec: the adapters' declarations, resolved by
identity (``cloud.aws.identities``), turned into policy documents (``domain.iam``).

Lives in the composition root because it is the one place that may read ``cloud.aws`` on the
CLI's behalf (the CLI never imports the adapters).

Who calls it: ``cli.iam`` (``stockade iam policy``), lazily.
"""

from __future__ import annotations

from typing import Any

from stockade.cloud.aws.identities import declarations
from stockade.domain.iam import Identity, generate_policies
from stockade.domain.spec import Organization

__all__ = ["stockade_policies"]


def stockade_policies(organization: Organization) -> dict[Identity, dict[str, Any]]:
    """The policy documents of Stockade's identities, with ``organization``'s role names."""
    return generate_policies(declarations(), organization)

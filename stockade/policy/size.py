"""How big an SCP or RCP is, the way AWS Organizations counts it, and the attachment limits.

AWS Organizations: "All characters in your SCP count against its maximum size ... you can delete
any white space, such as space characters and line breaks that are outside quotation marks" (and
the console's visual editor does so). Stockade therefore measures a policy as the characters left
after removing whitespace outside JSON strings (``minified_length``): a document larger than the
limit even then can never be attached and is an error; one that fits only once minified is a lint
warning (upload it minified). A policy given as a JSON object is measured as its compact JSON.

The limits are configurable per organization (``domain.quotas.OrganizationLimits``: 5,120
characters by default, 10,240 where raised; 5 policies per root, OU or account, 10 where
raised); RCPs have the same limits as SCPs.

Who calls it: ``policy.parse`` (measures each document once), ``policy.simulate`` (checks SCPs
and RCPs of every request), ``policy.lint``.
"""

from __future__ import annotations

import re

from stockade.domain.quotas import OrganizationLimits
from stockade.policy.errors import Location, PolicySizeError

_STRING_OR_SPACE = re.compile(r'("(?:\\.|[^"\\])*")|\s+')

DEFAULT_LIMITS = OrganizationLimits()


def minified_length(text: str) -> int:
    """Characters of ``text`` once whitespace outside JSON strings is removed."""
    removed = sum(
        m.end() - m.start() for m in _STRING_OR_SPACE.finditer(text) if m.group(1) is None
    )
    return len(text) - removed


def check_size(chars: int, *, kind: str, label: str, limit: int) -> None:
    """PolicySizeError if a policy of ``chars`` characters exceeds ``limit``."""
    if chars > limit:
        raise PolicySizeError(
            f"the {kind} is {chars:,} characters without whitespace, over the limit of {limit:,}",
            where=Location(label),
            hint=f"split it into several {kind}s or shorten it (newer organizations allow "
            "10,240 characters: set the limit in the spec)",
        )


def check_attachments(count: int, *, kind: str, label: str, limit: int) -> None:
    """PolicySizeError if more than ``limit`` policies are attached to one target."""
    if count > limit:
        raise PolicySizeError(
            f"{count} {kind}s are attached to one target, over the limit of {limit}",
            where=Location(label),
            hint=f"merge {kind}s (AWS allows {limit} per root, OU or account unless raised)",
        )

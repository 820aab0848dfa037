"""Read and check the policy files a spec's guardrails reference: SCPs and test identity policies.

Each SCP file (``guardrails.scps[i].file``) must be a valid policy document (JSON, AWS's grammar,
checked by ``policy.parse_policy``) no larger than ``limits.scp_max_chars`` once whitespace
outside strings is removed (how AWS Organizations counts); each identity policy a guardrail test
names (``guardrails.tests[i].identity_policies[j]``) must be a valid policy document. Paths are
relative to the spec's directory and may not leave it. Problems name the file, and the spec line
and field that references it.

Who calls it: ``spec.loader`` (``load_spec``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stockade.domain.spec import FleetSpec
from stockade.policy import parse_policy
from stockade.policy.errors import PolicyError
from stockade.policy.size import minified_length
from stockade.spec.files import Referenced, read_referenced
from stockade.spec.problems import Problem, format_path

__all__ = ["PolicyFile", "policy_references"]


@dataclass(frozen=True)
class PolicyFile:
    """A policy document a spec references, with where it is referenced."""

    path: str
    loc: tuple[str | int, ...]
    #: the SCP's size limit, or None for an identity policy
    max_chars: int | None


def policy_references(spec: FleetSpec) -> list[PolicyFile]:
    """Every policy file the spec's guardrails reference, SCPs first, in spec order."""
    refs = [
        PolicyFile(scp.file, ("guardrails", "scps", index, "file"), spec.limits.scp_max_chars)
        for index, scp in enumerate(spec.guardrails.scps)
    ]
    for index, test in enumerate(spec.guardrails.tests):
        refs += [
            PolicyFile(path, ("guardrails", "tests", index, "identity_policies", position), None)
            for position, path in enumerate(test.identity_policies)
        ]
    return refs


def read_policy(
    ref: PolicyFile, *, root: Path, display: str, spec_name: str, line: int
) -> str | Problem:
    """The policy text of ``ref`` (checked), or the Problem with it."""
    field = format_path(ref.loc)
    read = read_referenced(
        Referenced(
            kind="SCP file" if ref.max_chars is not None else "policy file",
            path=ref.path,
            example="policies/deny-leave.json",
            spec_name=spec_name,
            line=line,
            field=field,
        ),
        root=root,
        display=display,
    )
    if isinstance(read, Problem):
        return read
    _, text = read
    used_by = f"it is used by {spec_name}:{line} ({field})"
    try:
        parse_policy(text)
    except PolicyError as exc:
        return Problem(display, None, exc.message, hint=f"{exc.hint}; {used_by}")
    if ref.max_chars is not None:
        size = minified_length(text)
        if size > ref.max_chars:
            return Problem(
                display,
                None,
                f"the SCP is {size:,} characters without whitespace, over the limit of "
                f"{ref.max_chars:,} (limits.scp_max_chars)",
                hint=f"split or shorten it; {used_by}",
            )
    return text

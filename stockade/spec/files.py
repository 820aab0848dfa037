"""Reading a file the spec references by a path relative to its directory, or saying why not.

Templates and policy files follow the same rules: the path is relative to the spec's directory
and stays inside it (the spec and its files version together), the file exists, and it is UTF-8
text. A problem names the spec line and field that references the file (or the file itself for
unreadable contents).

Who calls it: ``spec.loader`` (templates), ``spec.policies`` (SCP and policy files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from stockade.spec.problems import Problem

__all__ = ["Referenced", "read_referenced"]


@dataclass(frozen=True)
class Referenced:
    """A file a spec references: what kind it is (for messages) and where the reference is."""

    #: "template", "SCP", "policy"
    kind: str
    #: the path as the spec writes it
    path: str
    #: e.g. templates/app.yaml: shown in the hint for a bad path
    example: str
    spec_name: str
    line: int
    field: str


def read_referenced(ref: Referenced, *, root: Path, display: str) -> tuple[Path, str] | Problem:
    """(resolved path, text) of the referenced file, or the Problem with it. ``root`` is the
    spec's resolved directory, ``display`` how messages name the file."""
    if (
        not ref.path.strip()
        or PurePosixPath(ref.path).is_absolute()
        or PureWindowsPath(ref.path).is_absolute()
        or PureWindowsPath(ref.path).drive
    ):
        return Problem(
            ref.spec_name,
            ref.line,
            f"{ref.kind} path {ref.path!r} must be relative to the spec's directory",
            hint=f"write it relative to {root}, e.g. {ref.example}",
            field=ref.field,
        )
    target = (root / ref.path).resolve()
    if not target.is_relative_to(root):
        return Problem(
            ref.spec_name,
            ref.line,
            f"{ref.kind} path {ref.path!r} leads outside the spec's directory",
            hint=f"keep it inside {root} so the spec and its files version together",
            field=ref.field,
        )
    if not target.is_file():
        state = "is not a file" if target.exists() else "not found"
        return Problem(
            ref.spec_name,
            ref.line,
            f"{ref.kind} {state}: {target}",
            hint=f"create the {ref.kind} or fix the path (relative to the spec's directory)",
            field=ref.field,
        )
    try:
        return target, target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Problem(display, None, "is not UTF-8 text", hint=f"save the {ref.kind} as UTF-8")
    except OSError as exc:
        return Problem(display, None, f"cannot read: {exc.strerror}", hint="check permissions")

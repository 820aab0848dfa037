"""Write the example fleet spec (``stockade init``) and locate its packaged copy.

The example lives in this package under ``files/``: ``stockade.yaml``, baseline and service
CloudFormation templates, an example SCP and a README for the generated folder. It is realistic
enough to deploy, both to the embedded sandbox (moto) and, after the steps in its README, to real
accounts.

Who calls it: the CLI's ``stockade init`` (``write_scaffold``), ``stockade up --sandbox`` when no
spec is given and the tests (``example_spec_path``).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from stockade.domain.errors import ValidationError

_PACKAGE = "stockade.scaffold"
_ROOT = "files"
_SPEC = "stockade.yaml"


def example_spec_path() -> Path:
    """The packaged example ``stockade.yaml``; its templates sit next to it."""
    resource = files(_PACKAGE).joinpath(_ROOT, _SPEC)
    if not isinstance(resource, Path):
        # importlib.resources gives real paths for packages installed as directories
        raise ValidationError(
            f"the example spec is packaged as {resource!r}, not a file on disk",
            hint="install stockade as a regular (unzipped) package, or run `stockade init DIR`",
        )
    return resource


def write_scaffold(directory: Path, *, force: bool = False) -> list[Path]:
    """Copy the example spec into ``directory`` (created if needed); the written paths, sorted.

    Without ``force`` nothing is written if any target file already exists: ``ValidationError``
    names the first one. With ``force`` existing files are overwritten; others are left alone.
    """
    sources = sorted(_walk(files(_PACKAGE).joinpath(_ROOT), PurePosixPath()))
    targets = [(directory.joinpath(*relative.parts), source) for relative, source in sources]
    if not force:
        for target, _ in targets:
            if target.exists():
                raise ValidationError(
                    f"{target}: already exists; stockade init did not write anything",
                    hint="choose an empty directory, or pass --force to overwrite the example "
                    "files",
                )
    written: list[Path] = []
    for target, source in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        written.append(target)
    return written


def _walk(node: Traversable, relative: PurePosixPath) -> list[tuple[PurePosixPath, Traversable]]:
    found: list[tuple[PurePosixPath, Traversable]] = []
    for child in node.iterdir():
        if child.name.startswith(".") or child.name == "__pycache__":
            continue
        if child.is_dir():
            found += _walk(child, relative / child.name)
        else:
            found.append((relative / child.name, child))
    return found

"""The running spec: the file ``stockade up --spec`` names, reloaded when it changes on disk.

``SpecSource.current()`` returns the last ``LoadedSpec`` while neither the spec file nor any
template it references has changed (size and modification time), and loads it again otherwise
(cfn-lint included, a few seconds), so ``stockade plan`` and ``stockade apply`` see the files
as they are now. A spec that no longer loads raises ``SpecError``; the last good one stays
cached for the next call, but is not returned in its place (an apply must never deploy
something other than what is on disk).

Who calls it: the engine (plan, apply), the composition root (the first load at startup).
"""

from __future__ import annotations

import threading
from pathlib import Path

from stockade.spec.loader import LoadedSpec, load_spec

__all__ = ["SpecSource"]

_Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(paths: list[Path]) -> _Fingerprint:
    found = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            found.append((str(path), -1, -1))
        else:
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


class SpecSource:
    """A spec file and the last load of it; thread-safe."""

    def __init__(self, path: Path, loaded: LoadedSpec | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded = loaded
        self._seen: _Fingerprint | None = self._fingerprint(loaded) if loaded else None

    @property
    def path(self) -> Path:
        return self._path

    def _fingerprint(self, loaded: LoadedSpec) -> _Fingerprint:
        templates = sorted({loaded.root / name for name in loaded.templates})
        return _fingerprint([self._path, *templates])

    def current(self) -> LoadedSpec:
        """The spec as it is on disk now (reloaded only if a file changed)."""
        with self._lock:
            if self._loaded is not None and self._fingerprint(self._loaded) == self._seen:
                return self._loaded
            loaded = load_spec(self._path)
            self._loaded, self._seen = loaded, self._fingerprint(loaded)
            return loaded

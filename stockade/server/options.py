"""Options of ``stockade up``, filled by the CLI and read by ``server.up``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class UpOptions:
    mode: Literal["sandbox", "aws"] = "sandbox"
    spec_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    demo: int = 0
    #: sandbox only: time scale and latency profile (None: the settings' defaults)
    time_scale: float | None = None
    latency: Literal["off", "fast", "aws-like"] | None = None
    #: show a live progress display (False for --output json or when not a terminal)
    progress: bool = True
    #: exit once the demo fleet is settled instead of serving until Ctrl-C (benchmarks, tests)
    exit_when_settled: bool = False

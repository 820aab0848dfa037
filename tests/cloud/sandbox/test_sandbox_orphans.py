"""The sandbox server never outlives the process that started it, however that process ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sandbox_support import alive

PARENT = """
import sys, time
from pathlib import Path
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.settings import SandboxSettings

sandbox = SandboxProcess(Path(sys.argv[1]), SandboxSettings(latency="off"))
sandbox.start()
print(sandbox.pid, flush=True)
time.sleep(120)
"""

#: SIGKILL leaves no chance to clean up; SIGTERM and SIGINT end Python without stopping it
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)


def test_sandbox_dies_with_its_parent(tmp_path: Path) -> None:
    # three parents at once (one per way of dying) keeps this test short
    parents = {
        signum: subprocess.Popen(
            [sys.executable, "-c", PARENT, str(tmp_path / signum.name)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for signum in SIGNALS
    }
    sandboxes: dict[signal.Signals, int] = {}
    try:
        for signum, parent in parents.items():
            assert parent.stdout is not None
            line = parent.stdout.readline()
            assert line.strip().isdigit(), f"parent printed {line!r}"
            sandboxes[signum] = int(line)
            assert alive(sandboxes[signum])

        for signum, parent in parents.items():
            parent.send_signal(signum)
        for parent in parents.values():
            parent.wait(10)
        # a liveness bound, not a speed claim: generous for a loaded CI machine
        deadline = time.monotonic() + 15.0
        while any(map(alive, sandboxes.values())) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [signum.name for signum, pid in sandboxes.items() if alive(pid)]
        assert survivors == [], f"sandboxes outlived their parent after {survivors}"
    finally:
        for parent in parents.values():
            if parent.poll() is None:
                parent.kill()
                parent.wait()
        for pid in sandboxes.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

"""The sandbox server process: moto's WSGI app behind ``SandboxApp`` on 127.0.0.1.

Run as ``python -m stockade.cloud.sandbox.server --port P --state-dir DIR --seed S
--time-scale X --create-account-delay SECONDS --stack-seconds SECONDS [--parent-pid PID]
[--iam-authorization]`` (both durations in AWS seconds, divided by the time scale; the last
checks every request against IAM: ``iam_authorization``). It restores its state from
``DIR/journal.jsonl``, then serves until SIGTERM/SIGINT or until its parent process is gone.
A warm-up thread imports and patches moto's CloudFormation (``moto_patches``) while the server
starts; moto's CloudFormation waits for it before its first request, live or replayed, and a
moto the patches do not fit stops the server with a ``SandboxError`` in the log (exit 2).

The process never outlives its parent: on Linux it asks the kernel for SIGTERM when the parent
dies (``PR_SET_PDEATHSIG``), then checks the parent did not die before that was in place, and a
watchdog thread polls ``os.getppid()`` twice a second as a fallback (and on other systems).
Only the standard library (and the tiny ``domain.errors``) is imported before that is set
up; moto comes after.

Who calls it: ``cloud.sandbox.process.SandboxProcess`` spawns it; nothing imports it.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import fcntl
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from stockade.domain.errors import SandboxError

if TYPE_CHECKING:
    from stockade.cloud.sandbox.moto_patches import MotoPatches

PR_SET_PDEATHSIG = 1
#: exit status when the port was taken between the parent choosing it and the child binding it
EXIT_PORT_IN_USE = 75
#: exit status when another sandbox process holds the state directory
EXIT_STATE_LOCKED = 73
#: exit status when the journal cannot be restored
EXIT_FAILED = 2
WATCHDOG_INTERVAL = 0.5
#: seconds a stopping server waits for the request in flight before it exits anyway; the journal
#: drops a torn last line on restore and that request was never answered, so nothing is lost
STOP_GRACE = 3.0

log = logging.getLogger("stockade.sandbox")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stockade-sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--create-account-delay", type=float, default=60.0)
    parser.add_argument("--stack-seconds", type=float, default=0.0)
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument("--iam-authorization", action="store_true")
    return parser.parse_args(argv)


def die_with_parent(parent_pid: int | None) -> None:
    """Get SIGTERM when the parent dies; exit now if it is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if parent_pid is not None and os.getppid() != parent_pid:
        log.warning("parent %d is gone before the sandbox started; exiting", parent_pid)
        raise SystemExit(0)


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    while not stop.wait(WATCHDOG_INTERVAL):
        if os.getppid() != parent_pid:
            log.warning("parent %d is gone; stopping", parent_pid)
            os.kill(os.getpid(), signal.SIGTERM)
            return


def _exit_after_grace() -> None:
    """Exit after ``STOP_GRACE`` seconds even if a request is stuck (a warm-up, a slow disk)."""
    time.sleep(STOP_GRACE)
    log.warning("the request in flight did not finish within %.0f s; exiting anyway", STOP_GRACE)
    logging.shutdown()
    os._exit(0)


def _lock_state_dir(state_dir: Path) -> int:
    """Hold an exclusive lock on the state directory: one sandbox process per journal."""
    from stockade.cloud.sandbox.journal import lock_path

    fd = os.open(lock_path(state_dir), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.error("another sandbox process is using %s", state_dir)
        raise SystemExit(EXIT_STATE_LOCKED) from None
    return fd


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s",
    )
    die_with_parent(args.parent_pid)
    stop = threading.Event()
    if args.parent_pid is not None:
        threading.Thread(
            target=_watch_parent, args=(args.parent_pid, stop), name="parent-watchdog", daemon=True
        ).start()

    args.state_dir.mkdir(parents=True, exist_ok=True)
    _lock_state_dir(args.state_dir)  # held until the process exits
    try:
        _serve(args, stop)
    except SandboxError as exc:
        log.error("%s", exc.one_line())
        return EXIT_FAILED
    log.info("stopped")
    logging.shutdown()
    # nothing is left to flush: skip tearing down moto's module state (a few hundred ms)
    os._exit(0)


def _warm_up(patches: MotoPatches, stop: threading.Event) -> None:
    """Import moto's CloudFormation and patch it; on failure stop the server (``_serve`` raises)."""
    try:
        patched = patches.apply()
    except SandboxError:
        stop.set()
        return
    log.info("moto's CloudFormation patched: %s", ", ".join(patched))


def _serve(args: argparse.Namespace, stop: threading.Event) -> None:
    """Restore the journal, then serve until ``stop`` is set."""
    # heavy imports only now, with the parent-death guard in place
    import moto

    from stockade.cloud.sandbox.app import CachedDispatcher, SandboxApp
    from stockade.cloud.sandbox.iam_authorization import IamAuthorization
    from stockade.cloud.sandbox.journal import Journal, journal_path
    from stockade.cloud.sandbox.keepalive import make_server
    from stockade.cloud.sandbox.moto_patches import MotoPatches

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # moto's CloudFormation imports every backend it can provision (seconds of CPU): import and
    # patch it in the background now, not inside the first CreateStack while every other request
    # waits; moto's CloudFormation app waits for the patches before its first request (live or
    # replayed), and a moto the patches do not fit stops the server
    patches = MotoPatches()
    threading.Thread(
        target=_warm_up, args=(patches, stop), name="sandbox-warm-up", daemon=True
    ).start()
    authorization = IamAuthorization() if args.iam_authorization else None
    if authorization is not None:
        authorization.patch_moto()  # before the replay: it changes what moto stores
    journal = Journal(journal_path(args.state_dir), seed=args.seed)
    if journal.header.seed != args.seed:
        log.warning(
            "journal was written with seed %d; keeping it (asked for %d)",
            journal.header.seed,
            args.seed,
        )
    app = SandboxApp(
        CachedDispatcher(before_create=patches.before_backend),
        journal,
        port=args.port,
        time_scale=args.time_scale,
        create_account_delay=args.create_account_delay,
        stack_seconds=args.stack_seconds,
        authorization=authorization,
    )
    try:
        server = make_server(args.host, args.port, app)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            log.error("port %d is already in use", args.port)
            raise SystemExit(EXIT_PORT_IN_USE) from None
        raise
    log.info(
        "sandbox %s (moto %s) restoring %d journaled requests",
        journal.header.instance_id,
        moto.__version__,
        journal.loaded_count,
    )
    started = time.perf_counter()
    restored = app.replay()
    elapsed = time.perf_counter() - started
    log.info(
        "restored %d requests in %.2f s (%.0f/s)", restored, elapsed, restored / max(elapsed, 1e-9)
    )
    if authorization is not None:
        authorization.add_admin()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
    )
    serving.start()
    log.info("listening on http://%s:%d", args.host, server.port)
    while not stop.wait(0.1):  # a short timeout keeps the signal handler prompt
        pass
    threading.Thread(target=_exit_after_grace, name="stop-deadline", daemon=True).start()
    server.shutdown()
    app.close()  # waits for the request in flight; its journal line is already synced
    if patches.error is not None:
        raise patches.error


if __name__ == "__main__":
    sys.exit(main())

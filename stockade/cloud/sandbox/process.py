"""Start, probe and stop the sandbox server as a child process of the caller.

``SandboxProcess`` picks a free loopback port, spawns ``python -m
stockade.cloud.sandbox.server`` with its output in ``state_dir/sandbox.log``, and waits until
the server answers ``GET /_stockade/sandbox`` (after it has replayed its journal). The child
dies with its parent; ``stop()`` asks it to exit (SIGTERM) and kills it if it will not.

The child is spawned from a dedicated thread that lives until ``stop()``: Linux delivers the
parent-death signal when the *thread* that forked the child exits, so spawning from a
short-lived worker thread would otherwise kill the sandbox with that thread.

``stack_operations`` reads back the log of CloudFormation stack operations the sandbox has
served, and ``usage`` the server's CPU time and peak memory.

Who calls it: the server composition root (``stockade up --sandbox``), tests and benchmarks.
``journal_instance_id`` and ``wipe`` let the composition root compare the sandbox with
Stockade's database before starting either.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config

from stockade.cloud.sandbox.hooks import ACCOUNT_HEADER
from stockade.cloud.sandbox.iam_authorization import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY
from stockade.cloud.sandbox.journal import journal_path, lock_path, read_header
from stockade.cloud.sandbox.stacks import StackOperation
from stockade.domain.errors import SandboxError, ValidationError
from stockade.settings import SandboxSettings

LOG_NAME = "sandbox.log"
_EXIT_PORT_IN_USE = 75  # stockade.cloud.sandbox.server.EXIT_PORT_IN_USE (not imported: heavy)
_PORT_ATTEMPTS = 3
#: plain HTTP to 127.0.0.1, never through a proxy from the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def journal_instance_id(state_dir: Path) -> str | None:
    """The instance id recorded in ``state_dir``'s journal, or None if there is no journal."""
    header = read_header(journal_path(state_dir))
    return header.instance_id if header else None


def wipe(state_dir: Path) -> None:
    """Delete the sandbox's journal, so the next start is a fresh, empty AWS."""
    import fcntl

    lock = lock_path(state_dir)
    if lock.exists():
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SandboxError(
                f"cannot wipe {state_dir}: a sandbox is running on it",
                hint="stop Stockade (or the sandbox) first",
            ) from None
        finally:
            os.close(fd)
    journal_path(state_dir).unlink(missing_ok=True)


@dataclass
class _Owner:
    """The thread that spawned the child, kept alive until the child is gone."""

    proc: subprocess.Popen[bytes] | None = None
    error: Exception | None = None
    spawned: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class SandboxProcess:
    """One sandbox server child process on a state directory."""

    def __init__(
        self,
        state_dir: Path,
        settings: SandboxSettings,
        *,
        start_timeout: float = 120.0,
        stop_timeout: float = 10.0,
        stack_seconds: float | None = None,
    ) -> None:
        """``stack_seconds`` (AWS seconds a stack operation stays in progress) overrides the
        settings' ``stack_seconds`` when given."""
        self.state_dir = Path(state_dir)
        if stack_seconds is not None:
            if stack_seconds < 0:
                raise ValueError("stack_seconds must not be negative")
            settings = settings.model_copy(update={"stack_seconds": stack_seconds})
        self.settings = settings
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._owner: _Owner | None = None
        self._port: int | None = None
        self._info: dict[str, Any] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the server and wait until it has restored its state and answers."""
        if self._owner is not None:
            raise SandboxError("the sandbox is already running", hint="call stop() first")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(_PORT_ATTEMPTS):
            port = _free_port()
            self._owner = self._spawn(port)
            try:
                self._info = self._wait_ready(port)
            except _PortTaken:
                self._release()
                continue
            except BaseException:
                self.stop()
                raise
            self._port = port
            return
        raise SandboxError(
            "no free loopback port for the sandbox after several attempts",
            hint=f"see {self.log_path}",
        )

    def stop(self) -> None:
        """SIGTERM the server, wait, SIGKILL after ``stop_timeout``. Safe to call twice."""
        owner = self._owner
        if owner is None:
            return
        proc = owner.proc
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._release()

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what callers need ----------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.state_dir / LOG_NAME

    @property
    def endpoint_url(self) -> str:
        if self._port is None:
            raise SandboxError("the sandbox is not running", hint="call start() first")
        return f"http://127.0.0.1:{self._port}"

    def client(
        self,
        service: str,
        *,
        account_id: str | None = None,
        region: str = "us-east-1",
        config: Config | None = None,
    ) -> Any:
        """A boto3 client of this sandbox as the management account's admin, acting in
        ``account_id`` (moto's account header; None: the management account). For tests,
        benchmarks and tools that look into the sandbox; the control plane builds its own
        clients (``cloud.aws.session``), with rate budgets and realism hooks."""
        client = boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=ADMIN_ACCESS_KEY_ID,
            aws_secret_access_key=ADMIN_SECRET_ACCESS_KEY,
            config=config,
        )
        if account_id is not None:

            def route(request: AWSPreparedRequest, **_: Any) -> None:
                request.headers[ACCOUNT_HEADER] = account_id

            client.meta.events.register(
                f"before-send.{client.meta.service_model.service_id.hyphenize()}", route
            )
        return client

    @property
    def instance_id(self) -> str:
        return str(self._require_info()["instance_id"])

    @property
    def restored_requests(self) -> int:
        return int(self._require_info()["restored_requests"])

    @property
    def pid(self) -> int | None:
        owner = self._owner
        return owner.proc.pid if owner is not None and owner.proc is not None else None

    def inject_fault(self, account_name: str, reason: str, times: int | None = 1) -> None:
        """Make CreateAccount fail with ``reason`` for names matching the glob ``account_name``.

        ``times`` None means every matching creation fails. Journaled like any other change.
        """
        payload = {"account_name": account_name, "reason": reason, "times": times}
        self._call("/_stockade/faults", payload, doing="fault injection")

    def set_credential_facts(
        self,
        account_id: str,
        *,
        access_keys: Sequence[Mapping[str, object]] = (),
        root_access_keys: bool | None = None,
    ) -> None:
        """Set what moto cannot: access keys' ``created``/``last_used`` dates (ISO 8601,
        ``last_used`` None: never used) and whether the root user has access keys, in one
        account (``cloud.sandbox.iam``). Journaled like any other change."""
        payload = {
            "account_id": account_id,
            "access_keys": [dict(key) for key in access_keys],
            "root_access_keys": root_access_keys,
        }
        self._call("/_stockade/iam/credentials", payload, doing="setting credential facts")

    def stack_operations(self, account_id: str | None = None) -> list[StackOperation]:
        """Every successful state-changing CloudFormation request so far (replayed ones too),
        in order; only those of ``account_id`` when given."""
        path = "/_stockade/stack-operations"
        if account_id is not None:
            path += "?" + urllib.parse.urlencode({"account_id": account_id})
        data = self._call(path, None, doing="reading the stack operations")
        return [StackOperation.from_json(item) for item in data["operations"]]

    def usage(self) -> SandboxUsage:
        """CPU seconds the server process has used so far, and its peak resident memory."""
        pid = self.pid
        if pid is None:
            raise SandboxError("the sandbox is not running", hint="call start() first")
        return SandboxUsage.of_process(pid)

    # -- internals ------------------------------------------------------------------------

    def _call(self, path: str, payload: Any, *, doing: str) -> Any:
        """GET ``path`` (POST ``payload`` as JSON if not None); the JSON answer."""
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            f"{self.endpoint_url}{path}",
            data=None if payload is None else json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="GET" if payload is None else "POST",
        )
        try:
            with _OPENER.open(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            if exc.code == 400:
                raise ValidationError(f"sandbox refused the {doing}: {detail}") from exc
            raise SandboxError(f"sandbox {doing} failed: HTTP {exc.code} {detail}") from exc
        except (OSError, ValueError) as exc:
            raise SandboxError(f"sandbox {doing} failed: {exc}") from exc

    def _require_info(self) -> dict[str, Any]:
        if self._info is None:
            raise SandboxError("the sandbox is not running", hint="call start() first")
        return self._info

    def _argv(self, port: int) -> list[str]:
        s = self.settings
        return [
            sys.executable,
            "-m",
            "stockade.cloud.sandbox.server",
            "--port", str(port),
            "--state-dir", str(self.state_dir),
            "--seed", str(s.seed),
            "--time-scale", repr(s.time_scale),
            "--create-account-delay", repr(s.create_account_delay),
            "--stack-seconds", repr(s.stack_seconds),
            "--parent-pid", str(os.getpid()),
            *(["--iam-authorization"] if s.iam_authorization else []),
        ]  # fmt: skip

    def _spawn(self, port: int) -> _Owner:
        owner = _Owner()
        argv = self._argv(port)

        def run() -> None:
            try:
                with self.log_path.open("ab") as log:
                    owner.proc = subprocess.Popen(
                        argv,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # a terminal's Ctrl-C reaches the parent only
                        close_fds=True,
                    )
            except (OSError, ValueError) as exc:  # handed to start(), which re-raises it
                owner.error = exc
            finally:
                owner.spawned.set()
            owner.release.wait()

        threading.Thread(target=run, name="stockade-sandbox-owner", daemon=True).start()
        owner.spawned.wait()
        if owner.error is not None:
            raise SandboxError(f"could not start the sandbox: {owner.error}") from owner.error
        return owner

    def _release(self) -> None:
        owner, self._owner = self._owner, None
        self._port = None
        self._info = None
        if owner is not None:
            owner.release.set()

    def _wait_ready(self, port: int) -> dict[str, Any]:
        assert self._owner is not None and self._owner.proc is not None
        proc = self._owner.proc
        url = f"http://127.0.0.1:{port}/_stockade/sandbox"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            code = proc.poll()
            if code == _EXIT_PORT_IN_USE:
                raise _PortTaken
            if code is not None:
                raise SandboxError(
                    f"the sandbox exited with status {code} while starting; "
                    f"{self.log_path} ends with:\n{self._log_tail()}",
                    hint="fix the cause shown in the log, or wipe the sandbox state",
                )
            try:
                with _OPENER.open(url, timeout=2) as response:
                    info: dict[str, Any] = json.loads(response.read())
                    return info
            except (OSError, ValueError):
                time.sleep(0.05)
        raise SandboxError(
            f"the sandbox did not answer within {self.start_timeout:.0f} s; "
            f"{self.log_path} ends with:\n{self._log_tail()}",
            hint="a long journal takes a while to replay; raise the start timeout or wipe it",
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class SandboxUsage:
    """What the sandbox server process has used: CPU seconds (user + system), peak RSS."""

    cpu_seconds: float
    peak_rss_bytes: int

    @classmethod
    def of_process(cls, pid: int) -> SandboxUsage:
        """Read from ``/proc`` (Linux); zeros where it cannot be read."""
        cpu = 0.0
        peak = 0
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = os.sysconf("SC_CLK_TCK")
            cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
        return cls(cpu_seconds=cpu, peak_rss_bytes=peak)


class _PortTaken(Exception):
    """The child could not bind the port chosen for it."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

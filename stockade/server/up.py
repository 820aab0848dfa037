"""``stockade up``: start the control plane, serve the API, optionally build a demo fleet.

Runs until Ctrl-C or SIGTERM (or, with ``exit_when_settled``, until the demo fleet has
settled), then stops the API, the engine and the sandbox in that order. A SIGKILL leaves no
orphan either: the sandbox server exits when its parent dies, and DBOS resumes every
unfinished workflow at the next start.

Who calls it: ``cli`` (lazily, for the ``up`` command).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from types import FrameType
from typing import NoReturn

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

import stockade
from stockade.api.app import create_app
from stockade.domain.errors import ConflictError, StockadeError, ValidationError
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.server.auth import StoreAuthenticator, ensure_admin_token
from stockade.server.control import ControlPlane, load_fleet_spec, start_control_plane
from stockade.server.options import UpOptions
from stockade.settings import SandboxSettings, Settings

SETTLED = (TenantState.ACTIVE, TenantState.FAILED)
RESUME_EVERY_SECONDS = 30.0


class _Stop(Exception):
    """Raised in the main thread by the SIGTERM handler to unwind cleanly."""


def demo_requests(count: int, tiers: list[str]) -> list[TenantRequest]:
    """``demo-001``..: tiers in turn, the first two labelled as canaries."""
    return [
        TenantRequest(
            tenant_id=f"demo-{i:03d}",
            tier=tiers[(i - 1) % len(tiers)],
            name=f"Demo tenant {i}",
            labels={"demo": "true", **({"canary": "true"} if i <= 2 else {})},
        )
        for i in range(1, count + 1)
    ]


def create_demo_fleet(plane: ControlPlane, count: int) -> list[str]:
    ids = []
    for request in demo_requests(count, sorted(plane.spec.spec.tiers)):
        ids.append(request.tenant_id)
        if plane.repo.find(request.tenant_id) is None:
            with contextlib.suppress(ConflictError):  # created meanwhile
                plane.service.create_tenant(request, actor="demo")
    return ids


def _settled(plane: ControlPlane, ids: list[str]) -> tuple[int, int]:
    done = failed = 0
    for tenant_id in ids:
        tenant = plane.repo.get(tenant_id)
        if tenant.state in SETTLED:
            done += 1
            failed += tenant.state is TenantState.FAILED
    return done, failed


def _watch_demo(plane: ControlPlane, ids: list[str], console: Console, show: bool) -> float:
    started = time.monotonic()
    progress = Progress(
        TextColumn("[bold]demo fleet"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} settled · {task.fields[states]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not show,
    )
    with progress:
        task = progress.add_task("demo", total=len(ids), states="")
        while True:
            done, _failed = _settled(plane, ids)
            counts = plane.repo.count_by_state()
            states = " ".join(f"{s.value}={n}" for s, n in counts.items() if n)
            progress.update(task, completed=done, states=states)
            if done >= len(ids):
                break
            time.sleep(0.25)
    return time.monotonic() - started


def serve_api(plane: ControlPlane, token_host: str, port: int) -> uvicorn.Server:
    """Serve the API over ``plane`` in a daemon thread, once it listens (tests use it too);
    set ``should_exit`` on the returned server to stop it."""
    app = create_app(
        tenants=plane.service,
        plans=plane.planner,
        rollouts=plane.rollouts,
        policies=plane.policies,
        tokens=plane.tokens,
        audit=plane.audit,
        access=plane.access,
        scans=plane.scans,
        auth=StoreAuthenticator(plane.tokens),
        version=stockade.__version__,
    )
    config = uvicorn.Config(app, host=token_host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise StockadeError(
                f"the API could not listen on {token_host}:{port}",
                hint="is the port in use? pass --port",
            )
        time.sleep(0.05)
    return server


def _announce(
    plane: ControlPlane, console: Console, sandbox: SandboxSettings, token: str, url: str
) -> None:
    for notice in plane.notices:
        console.print(f"[yellow]note:[/] {notice}")
    if plane.sandbox is not None:
        console.print(
            f"sandbox: {plane.sandbox.endpoint_url} · time scale x{plane.time_scale:g} "
            f"(AWS quotas, delays and latencies run {plane.time_scale:g} times faster) "
            f"· latency {sandbox.latency}"
        )
    console.print(f"spec: {plane.spec.path} ({plane.spec.content_hash[:12]})")
    console.print(f"API: [bold]{url}[/]  (OpenAPI at {url}/openapi.json)")
    home = plane.settings.home
    console.print(f"admin token: [bold]{token}[/]  (also in {home}/admin-token)")
    console.print("try: stockade tenant list   (the CLI reads the token from that file)")


def _check_port(host: str, port: int) -> None:
    """Fail before starting anything if the API's port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ValidationError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                hint="stop whatever uses that port, or pass --port",
            ) from exc


def _serve_forever(plane: ControlPlane) -> NoReturn:
    """Until interrupted; re-enqueue any tenant left without a workflow now and then."""
    next_resume = time.monotonic() + RESUME_EVERY_SECONDS
    while True:
        time.sleep(0.5)
        if time.monotonic() >= next_resume:
            plane.service.resume_pending()
            next_resume = time.monotonic() + RESUME_EVERY_SECONDS


def run_up(options: UpOptions) -> int:
    console = Console(stderr=not options.progress)
    settings = Settings()
    sandbox_settings = SandboxSettings()
    if options.time_scale is not None:
        sandbox_settings = sandbox_settings.model_copy(update={"time_scale": options.time_scale})
    if options.latency is not None:
        sandbox_settings = sandbox_settings.model_copy(update={"latency": options.latency})

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        raise _Stop

    # explicit handlers: a shell starts background jobs with SIGINT ignored
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    plane: ControlPlane | None = None
    server: uvicorn.Server | None = None
    try:
        spec = load_fleet_spec(options.spec_path, options.mode)  # bad input fails first
        _check_port(options.host, options.port)
        console.print(f"[bold]Stockade {stockade.__version__}[/] starting ({options.mode})")
        plane = start_control_plane(
            settings, mode=options.mode, spec=spec, sandbox_settings=sandbox_settings
        )
        token = ensure_admin_token(plane.tokens, settings.home)
        server = serve_api(plane, options.host, options.port)
        _announce(plane, console, sandbox_settings, token, f"http://{options.host}:{options.port}")
        if options.demo:
            ids = create_demo_fleet(plane, options.demo)
            seconds = _watch_demo(plane, ids, console, options.progress)
            done, failed = _settled(plane, ids)
            console.print(
                f"demo fleet: {done - failed} active, {failed} failed, in {seconds:.1f} s"
            )
        if options.exit_when_settled:
            return 0
        console.print("serving; Ctrl-C to stop")
        _serve_forever(plane)
    except (KeyboardInterrupt, _Stop):
        console.print("stopping")
        return 0
    finally:
        if server is not None:
            server.should_exit = True
        if plane is not None:
            plane.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

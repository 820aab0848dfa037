"""A full run never writes a token or a credential where it should not: not in the server's
output (API, engine and sandbox logs), not in the database, not in any file of its state.

Real processes: ``stockade up`` with a demo tenant, the CLI creating a token, using it (well and
badly), getting tenant credentials with it, revoking it and using it again. Then every byte the
run wrote is searched for the token and the credentials. The admin token that ``stockade up``
announces (by design) appears in its announcement and its file, nowhere else.
"""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from e2e.support import free_port, run_cli, start_up, tenant_rows, wait_for

#: 20x faster than AWS, as `make run`
ENV = {"STOCKADE_SANDBOX_TIME_SCALE": "20", "STOCKADE_SANDBOX_LATENCY": "fast"}


def _cli(workdir: Path, port: int, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    server = f"http://127.0.0.1:{port}"
    return run_cli(workdir, "--server", server, *args, env={"STOCKADE_TOKEN": token})


def _status(port: int, path: str, authorization: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": authorization}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _files_holding(root: Path, secret: bytes) -> list[str]:
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and secret in path.read_bytes()
    )


def test_tokens_and_credentials_appear_in_no_log_and_no_state_file(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / ".stockade"
    server = start_up(tmp_path, "--demo", "1", "--port", str(port), env=ENV)
    try:
        wait_for(
            lambda: [row for row in tenant_rows(state / "stockade.db") if row[1] == "active"],
            timeout=180,
            what="the demo tenant to be active",
        )
        tenant = str(tenant_rows(state / "stockade.db")[0][0])
        admin = (state / "admin-token").read_text().strip()

        created = _cli(
            tmp_path, port, admin, "-o", "json", "token", "create", "ops", "--role", "operator"
        )
        assert created.returncode == 0, created.stderr
        token = str(json.loads(created.stdout)["token"])

        issued = _cli(
            tmp_path, port, token, "-o", "json", "access", tenant,
            "--role", "readonly", "--reason", "log scan", "--format", "json",
        )  # fmt: skip
        assert issued.returncode == 0, issued.stderr
        credentials = json.loads(issued.stdout)["credentials"]
        secrets = {
            "operator token": token,
            "secret access key": str(credentials["secret_access_key"]),
            "session token": str(credentials["session_token"]),
        }

        # used badly: a mangled token, the wrong scheme, then revoked
        assert _status(port, "/api/v1/tenants", f"Bearer {token}x") == 401
        assert _status(port, "/api/v1/tenants", f"Basic {token}") == 401
        assert _status(port, "/api/v1/tokens", f"Bearer {token}") == 403
        listed = _cli(tmp_path, port, admin, "-o", "json", "token", "list")
        token_id = next(t["id"] for t in json.loads(listed.stdout)["items"] if t["name"] == "ops")
        assert _cli(tmp_path, port, admin, "token", "revoke", str(token_id)).returncode == 0
        assert _status(port, "/api/v1/tenants", f"Bearer {token}") == 401
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)

    assert "GET /api/v1/tenants" in output or "stopping" in output  # the log was captured
    for what, value in secrets.items():
        assert value not in output, f"the {what} is in the server's output"
        assert _files_holding(state, value.encode()) == [], f"the {what} is stored"
    # the admin token: announced once at start, and in its own file (that is how the CLI finds it)
    assert output.count(admin) == 1
    assert _files_holding(state, admin.encode()) == ["admin-token"]

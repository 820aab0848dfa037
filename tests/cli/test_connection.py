"""How the CLI finds the API (server, token) and what it says when it cannot."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from cli.conftest import Cli, one_error_line
from stockade.cli.client import StockadeClient, error_from_response
from stockade.cli.context import default_client
from stockade.domain.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    StockadeError,
    ValidationError,
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_server_is_one_clear_line(cli: Cli) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = cli("--server", url, "tenant", "list", client_factory=default_client)
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"error: cannot reach the Stockade API at {url} (is `stockade up` running?)"
    )


def test_server_comes_from_the_environment_or_the_flag(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("tenant", "list").exit_code == 0
    monkeypatch.setenv("STOCKADE_SERVER", "http://api.example:9000/")
    assert cli("tenant", "list").exit_code == 0
    assert cli("--server", "https://other.example", "tenant", "list").exit_code == 0
    assert cli.servers == [
        "http://127.0.0.1:8080",
        "http://api.example:9000",
        "https://other.example",
    ]


def test_a_server_that_is_not_a_url_is_a_usage_error(cli: Cli) -> None:
    assert cli("--server", "localhost:8080", "tenant", "list").exit_code == 2


def test_missing_token_says_where_to_put_one(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli.env.clear()
    result = cli("tenant", "list")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "no API token" in line
    assert "STOCKADE_TOKEN" in line


def test_token_file_written_by_up_is_used(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".stockade").mkdir()
    (tmp_path / ".stockade" / "admin-token").write_text("admin-token\n")
    monkeypatch.chdir(tmp_path)
    cli.env.clear()
    result = cli("tenant", "create", "acme", "--tier", "pro")
    assert result.exit_code == 0, result.output
    assert cli.tenants.actors == ["admin@example.com"]


def test_bad_token_is_exit_1_and_not_echoed(cli: Cli) -> None:
    cli.env["STOCKADE_TOKEN"] = "wrong-secret-token"
    result = cli("tenant", "list")
    assert result.exit_code == 1
    assert "STK-1400: invalid or expired token" in one_error_line(result)
    assert "wrong-secret-token" not in result.output


def _response(status: int, body: object = None, text: str = "") -> httpx.Response:
    if body is not None:
        return httpx.Response(status, json=body)
    return httpx.Response(status, text=text)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ValidationError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, ValidationError),
        (422, ValidationError),
        (500, StockadeError),
        (503, StockadeError),
    ],
)
def test_error_mapping_keeps_code_message_and_hint(status: int, cls: type[StockadeError]) -> None:
    body = {"error": {"code": "STK-4242", "message": "it broke", "hint": "do this"}}
    error = error_from_response(_response(status, body))
    assert type(error) is cls
    assert error.one_line() == "STK-4242: it broke (do this)"


def test_error_mapping_survives_a_non_json_body() -> None:
    error = error_from_response(_response(502, text="<html>Bad Gateway</html>"))
    assert type(error) is StockadeError
    assert error.message == "the API answered HTTP 502"


def test_a_non_api_server_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>hello</html>")

    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x")
    with pytest.raises(StockadeError, match="did not answer with a Stockade API document"):
        StockadeClient("http://x", token="t", http=http).list_tenants()


def test_timeouts_are_one_clear_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x")
    with pytest.raises(StockadeError, match="did not answer within"):
        StockadeClient("http://x", token="t", http=http).get_tenant("acme")

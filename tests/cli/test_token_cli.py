"""``stockade token create|list|revoke`` against the real API app and token store."""

from __future__ import annotations

import json
import re

import pytest

from cli.conftest import Cli, one_error_line
from stockade.api.auth import ROLES
from stockade.cli.tokens import RoleName
from stockade.domain.tenant import TenantState
from stockade.store.tokens import hash_token

TOKEN = re.compile(r"stk_[A-Za-z0-9_-]{43}")


@pytest.fixture
def admin(cli: Cli) -> Cli:
    cli.env["STOCKADE_TOKEN"] = "admin-token"
    return cli


def test_the_cli_knows_every_role() -> None:
    assert {role.value for role in RoleName} == set(ROLES)


def test_create_prints_the_token_once_with_a_warning(admin: Cli) -> None:
    result = admin("token", "create", "ci bot", "--role", "operator")
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("token: ")]
    plaintext = line.removeprefix("token: ")
    assert TOKEN.fullmatch(plaintext)
    assert result.stdout.count(plaintext) == 1
    assert "only time the token is shown" in result.stderr
    assert plaintext not in result.stderr
    info = admin.store.tokens.authenticate(plaintext)
    assert info is not None and (info.name, info.role, info.tenants) == ("ci bot", "operator", None)


def test_create_json_is_the_api_document(admin: Cli) -> None:
    result = admin("--output", "json", "token", "create", "bot", "--role", "viewer")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert TOKEN.fullmatch(document["token"])
    assert (document["name"], document["role"], document["active"]) == ("bot", "viewer", True)


def test_create_a_tenant_scoped_token(admin: Cli) -> None:
    admin.tenants.put("acme", state=TenantState.ACTIVE)
    admin.tenants.put("initech", state=TenantState.ACTIVE)
    result = admin(
        "token",
        "create",
        "helpdesk",
        "--role",
        "operator",
        "--tenant",
        "initech",
        "--tenant",
        "acme",
    )
    assert result.exit_code == 0, result.output
    assert "acme, initech" in result.stdout
    [info] = admin.store.tokens.list()
    assert info.tenants == frozenset({"acme", "initech"})


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--role", "operator", "--tenant", "nobody"], "unknown tenant(s): 'nobody'"),
        (["--role", "admin", "--tenant", "acme"], "admin token cannot be tenant-scoped"),
    ],
)
def test_bad_scopes_are_one_line_and_exit_2(admin: Cli, args: list[str], needle: str) -> None:
    admin.tenants.put("acme", state=TenantState.ACTIVE)
    result = admin("token", "create", "x", *args)
    assert result.exit_code == 2
    assert needle in one_error_line(result)
    assert admin.store.tokens.list() == []


def test_an_unknown_role_is_a_usage_error(admin: Cli) -> None:
    result = admin("token", "create", "x", "--role", "root")
    assert result.exit_code == 2
    assert admin.store.tokens.list() == []


def test_list_shows_tokens_but_never_a_secret(admin: Cli) -> None:
    plaintext, _ = admin.store.tokens.create("laptop", "viewer", actor="t")
    _, revoked = admin.store.tokens.create("old", "operator", actor="t", tenants=["acme"])
    admin.store.tokens.revoke(revoked.id, actor="t")
    result = admin("token", "list")
    assert result.exit_code == 0, result.output
    assert "laptop" in result.stdout and "revoked" in result.stdout and "acme" in result.stdout
    as_json = admin("--output", "json", "token", "list")
    for output in (result.stdout, as_json.stdout):
        assert plaintext.removeprefix("stk_") not in output
        assert hash_token(plaintext) not in output
    assert json.loads(as_json.stdout)["count"] == 2


def test_revoke(admin: Cli) -> None:
    plaintext, info = admin.store.tokens.create("leaked", "operator", actor="t")
    result = admin("token", "revoke", info.id)
    assert result.exit_code == 0, result.output
    assert "revoked" in result.stdout
    assert admin.store.tokens.authenticate(plaintext) is None
    missing = admin("token", "revoke", "tok_nope")
    assert missing.exit_code == 1
    assert "tok_nope" in one_error_line(missing)


def test_only_admins_manage_tokens(cli: Cli) -> None:  # the fixture's token is an operator's
    result = cli("token", "list")
    assert result.exit_code == 1
    assert "role 'operator' may not call GET /api/v1/tokens" in one_error_line(result)

"""Admin API and the `allin users` CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from allin.auth.models import Role, UserStatus
from allin.cli import app as cli
from allin.core.config import get_settings
from tests.auth.helpers import PASSWORD, bearer, create_user, login, signed_in, unique_email


async def test_admin_manages_users(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await signed_in(client, app, role=Role.ADMIN)
    email = unique_email()
    created = await client.post(
        "/api/admin/users",
        headers=admin.headers,
        json={"email": email, "password": PASSWORD, "display_name": "Lin"},
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["data"]["id"]
    assert created.json()["data"]["status"] == "ACTIVE"
    tokens = await login(client, email)

    listed = await client.get("/api/admin/users", headers=admin.headers, params={"limit": 1})
    assert listed.json()["meta"] == {"page": 1, "limit": 1, "total": 2, "next_cursor": None}
    found = await client.get("/api/admin/users", headers=admin.headers, params={"q": email[:12]})
    assert [u["email"] for u in found.json()["data"]] == [email]
    one = await client.get(f"/api/admin/users/{user_id}", headers=admin.headers)
    assert one.json()["data"]["display_name"] == "Lin"

    suspended = await client.post(f"/api/admin/users/{user_id}/suspend", headers=admin.headers)
    assert suspended.json()["data"]["status"] == "SUSPENDED"
    # Suspension signs the user out everywhere at once.
    assert (await client.get("/api/auth/me", headers=bearer(tokens["access_token"]))).is_error
    only = await client.get(
        "/api/admin/users", headers=admin.headers, params={"status": "SUSPENDED"}
    )
    assert [u["id"] for u in only.json()["data"]] == [user_id]

    activated = await client.post(f"/api/admin/users/{user_id}/activate", headers=admin.headers)
    assert activated.json()["data"]["status"] == "ACTIVE"
    await login(client, email)

    patched = await client.patch(
        f"/api/admin/users/{user_id}", headers=admin.headers, json={"plan": "pro", "role": "admin"}
    )
    assert patched.json()["data"]["plan"] == "pro" and patched.json()["data"]["role"] == "admin"


async def test_activate_verifies_a_pending_account(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await signed_in(client, app, role=Role.ADMIN)
    email = unique_email()
    user_id = await create_user(app, email, status=UserStatus.PENDING_VERIFICATION)
    done = await client.post(f"/api/admin/users/{user_id}/activate", headers=admin.headers)
    assert done.json()["data"]["email_verified_at"] is not None
    await login(client, email)


async def test_admin_cannot_lock_themselves_out(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await signed_in(client, app, role=Role.ADMIN)
    for body in ({"role": "user"}, {"status": "SUSPENDED"}):
        response = await client.patch(
            f"/api/admin/users/{admin.user_id}", headers=admin.headers, json=body
        )
        assert response.json()["error"]["code"] == "AUTH_012"
    fine = await client.patch(
        f"/api/admin/users/{admin.user_id}", headers=admin.headers, json={"plan": "business"}
    )
    assert fine.status_code == 200


async def test_admin_errors(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await signed_in(client, app, role=Role.ADMIN)
    user = await signed_in(client, app)
    missing = await client.get(
        "/api/admin/users/00000000-0000-0000-0000-000000000000", headers=admin.headers
    )
    assert missing.status_code == 404
    bad_id = await client.get("/api/admin/users/not-a-uuid", headers=admin.headers)
    assert bad_id.status_code == 422
    for method, path in (
        ("GET", "/api/admin/users"),
        ("POST", f"/api/admin/users/{admin.user_id}/suspend"),
        ("PATCH", f"/api/admin/users/{admin.user_id}"),
    ):
        denied = await client.request(method, path, headers=user.headers, json={})
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "AUTH_011"
    bad_role = await client.patch(
        f"/api/admin/users/{user.user_id}", headers=admin.headers, json={"role": "root"}
    )
    assert bad_role.status_code == 422
    taken = await client.post(
        "/api/admin/users", headers=admin.headers, json={"email": user.email, "password": PASSWORD}
    )
    assert taken.json()["error"]["code"] == "AUTH_005"


# --- CLI ---------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ALLIN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ALLIN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ALLIN_PASSWORD_HASH_PROFILE", "test")
    monkeypatch.setenv("ALLIN_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_users(cli_env: CliRunner) -> None:
    runner = cli_env
    created = runner.invoke(
        cli,
        ["users", "create-admin", "--email", "Ops@Example.com"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    assert "admin ops@example.com created" in created.output

    listed = runner.invoke(cli, ["users", "list"])
    assert (
        listed.exit_code == 0 and "ops@example.com" in listed.output and "ACTIVE" in listed.output
    )

    suspended = runner.invoke(cli, ["users", "suspend", "ops@example.com"])
    assert suspended.exit_code == 0 and "SUSPENDED" in suspended.output
    only = runner.invoke(cli, ["users", "list", "--status", "SUSPENDED"])
    assert "ops@example.com" in only.output
    none_active = runner.invoke(cli, ["users", "list", "--status", "ACTIVE"])
    assert "ops@example.com" not in none_active.output

    activated = runner.invoke(cli, ["users", "activate", "OPS@example.com"])
    assert activated.exit_code == 0 and "ACTIVE" in activated.output


def test_cli_errors(cli_env: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = cli_env
    weak = runner.invoke(
        cli, ["users", "create-admin", "--email", "a@example.com", "--password", "password123"]
    )
    assert weak.exit_code == 1 and "AUTH_006" in weak.output
    monkeypatch.setenv("ALLIN_ADMIN_PASSWORD", PASSWORD)
    assert runner.invoke(cli, ["users", "create-admin", "--email", "a@example.com"]).exit_code == 0
    again = runner.invoke(cli, ["users", "create-admin", "--email", "a@example.com"])
    assert again.exit_code == 1 and "AUTH_005" in again.output
    missing = runner.invoke(cli, ["users", "suspend", "nobody@example.com"])
    assert missing.exit_code == 1 and "no user" in missing.output

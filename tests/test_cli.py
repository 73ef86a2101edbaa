"""The `mutual` command, run in-process: migrations, staff, tokens, clean errors.

On SQLite each test starts from a new, empty file; on PostgreSQL it uses the
suite's migrated test database (wiped first, like every test's).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from api.app import create_app
from api.cli import main
from api.settings import Settings

SECRET = "a secret for the cli tests, long enough for HS256"


@pytest.fixture
def cli_url(backend, database_url, db, tmp_path, monkeypatch) -> str:
    """The database the commands run against; the working directory is a temporary
    one (no .env, no .mutual/ of the checkout) and the signing key is fixed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUTUAL_SECRET_KEY", SECRET)
    monkeypatch.delenv("MUTUAL_DATABASE_URL", raising=False)
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    return database_url


def mutual(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args])


def assert_clean_failure(result: Result, message: str, exit_code: int = 1) -> None:
    """A refusal: the exit code, the message, and no traceback."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert message in result.output
    assert "Traceback" not in result.output


async def viewer_email(url: str, token: str) -> str | None:
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ viewer { email role } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
    finally:
        await app.state.database.dispose()
    assert response.status_code == 200, response.text
    viewer = response.json()["data"]["viewer"]
    return viewer["email"] if viewer else None


def upgraded(url: str) -> None:
    result = mutual(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "Database at head." in result.output


def test_db_upgrade_brings_the_database_current_and_check_agrees(backend, cli_url):
    if backend == "sqlite":
        pending = mutual(cli_url, "db", "check")
        assert_clean_failure(pending, "Migrations are pending")
    upgraded(cli_url)
    upgraded(cli_url)  # idempotent
    check = mutual(cli_url, "db", "check")
    assert check.exit_code == 0, check.output
    assert "Database is current and matches the models." in check.output


def test_a_created_staff_member_gets_a_token_that_works(cli_url):
    upgraded(cli_url)
    created = mutual(
        cli_url,
        "staff",
        "create",
        "--email",
        "Ops@Example.com",
        "--name",
        "Ops",
        "--role",
        "admin",
        "--no-password",
    )
    assert created.exit_code == 0, created.output
    assert created.output.startswith("Created staff member ")
    assert "(admin)" in created.output

    issued = mutual(cli_url, "token", "issue", "--email", "ops@example.com")
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert token.count(".") == 2 and "\n" not in token
    assert asyncio.run(viewer_email(cli_url, token)) == "Ops@Example.com"

    hours = mutual(
        cli_url, "token", "issue", "--email", "ops@example.com", "--hours", "1"
    )
    assert hours.exit_code == 0, hours.output
    assert asyncio.run(viewer_email(cli_url, hours.output.strip())) is not None


def test_refusals_exit_non_zero_with_a_message_and_no_traceback(cli_url):
    upgraded(cli_url)
    args = ["--name", "Ops", "--no-password"]
    first = mutual(cli_url, "staff", "create", "--email", "ops@example.com", *args)
    assert first.exit_code == 0, first.output

    duplicate = mutual(cli_url, "staff", "create", "--email", "OPS@example.com", *args)
    assert_clean_failure(duplicate, "A staff member has this email.")
    bad_email = mutual(cli_url, "staff", "create", "--email", "not-an-email", *args)
    assert_clean_failure(bad_email, "is not a valid email address")
    bad_role = mutual(
        cli_url, "staff", "create", "--email", "b@example.com", "--role", "king", *args
    )
    assert_clean_failure(bad_role, "Invalid value for '--role'", exit_code=2)

    unknown = mutual(cli_url, "token", "issue", "--email", "nobody@example.com")
    assert_clean_failure(
        unknown, "No active staff member with email nobody@example.com"
    )
    assert unknown.stdout == ""  # nothing that a script could take for a token
    zero = mutual(
        cli_url, "token", "issue", "--email", "ops@example.com", "--hours", "0"
    )
    assert_clean_failure(zero, "Invalid value for '--hours'", exit_code=2)


def test_the_schema_command_prints_the_committed_sdl():
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    committed = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"
    assert result.output == committed.read_text()


def test_an_unreachable_database_is_a_clean_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = mutual("postgresql://nobody@127.0.0.1:9/none", "db", "upgrade")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert "database" in result.output.lower()


async def my_email(url: str, token: str) -> dict:
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ me { profile { email } } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
    finally:
        await app.state.database.dispose()
    return response.json()  # type: ignore[no-any-return]


def test_a_customer_token_opens_that_customers_own_view(cli_url):
    upgraded(cli_url)
    seeded = mutual(cli_url, "demo", "seed", "--customers", "3")
    assert seeded.exit_code == 0, seeded.output

    async def an_email() -> str:
        from sqlalchemy import select

        from crm.customers.models import Customer
        from crm.db import Database

        database = Database(cli_url)
        try:
            async with database.session(write=False) as session:
                email = await session.scalar(
                    select(Customer.email).where(Customer.email.is_not(None))  # type: ignore[union-attr]
                )
        finally:
            await database.dispose()
        assert email is not None
        return email

    email = asyncio.run(an_email())
    issued = mutual(cli_url, "token", "customer", "--email", email.upper())
    assert issued.exit_code == 0, issued.output
    body = asyncio.run(my_email(cli_url, issued.output.strip()))
    assert body["data"]["me"]["profile"]["email"] == email

    unknown = mutual(cli_url, "token", "customer", "--email", "nobody@example.com")
    assert_clean_failure(unknown, "No customer who may sign in has email")
    assert unknown.stdout == ""

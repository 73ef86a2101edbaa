"""The `mutual` command: serve, db, staff, token, apikey, demo, import, export."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from api.settings import Settings
from crm import migrate
from crm.actors import SystemActor
from crm.db import Database, is_sqlite, normalize_url
from crm.errors import DomainError, ValidationFailed
from crm.permissions import Scope
from crm.tokens import TokenSigner

T = TypeVar("T")
DEMO_ADMIN = "admin@mutual.example"


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine; an unreachable or unknown database is a one-line error."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (OSError, DBAPIError) as exc:
        fail(
            f"Cannot reach the database: {exc.__class__.__name__}: {exc}".splitlines()[
                0
            ]
        )
    except (NoSuchModuleError, ArgumentError) as exc:
        fail(f"Unsupported database URL: {exc}")
    raise AssertionError("unreachable")


def fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def describe(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return exc.message


async def with_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]]
) -> T:
    database = Database(settings.database_url)
    try:
        return await work(database)
    finally:
        await database.dispose()


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file so that a fresh checkout just works."""
    if is_sqlite(url):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


@click.group()
@click.option(
    "--database-url",
    envvar="MUTUAL_DATABASE_URL",
    default=None,
    help="Overrides MUTUAL_DATABASE_URL.",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Mutual: a headless CRM with a GraphQL API."""
    settings = Settings(database_url=database_url) if database_url else Settings()
    ensure_sqlite_dir(settings.database_url)
    ctx.obj = settings


# --- db ---


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Migrate the database up to REVISION (default: the latest)."""
    run(migrate.upgrade(settings.database_url, revision))
    click.echo(f"Database at {revision}.")


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(settings: Settings, revision: str) -> None:
    """Migrate the database down to REVISION (e.g. -1 or base)."""
    run(migrate.downgrade(settings.database_url, revision))
    click.echo(f"Database at {revision}.")


@db.command("check")
@click.pass_obj
def db_check(settings: Settings) -> None:
    """Fail when the models and the migrated database differ."""
    if not run(migrate.is_current(settings.database_url)):
        fail("Migrations are pending: run `mutual db upgrade`.")
    run(migrate.check(settings.database_url))
    click.echo("Database is current and matches the models.")


# --- staff and tokens ---


async def _create_staff(
    settings: Settings, email: str, name: str, role: str, password: str | None
) -> int:
    from crm.staff import service

    async def work(database: Database) -> int:
        async with database.transaction() as session:
            member = await service.create_staff(
                session,
                SystemActor(name="cli"),
                email=email,
                display_name=name,
                role=role,
                password=password,
            )
            assert member.id is not None
            return member.id

    return await with_database(settings, work)


@main.group()
def staff() -> None:
    """Staff members."""


@staff.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option(
    "--role",
    type=click.Choice(["admin", "manager", "agent", "analyst"]),
    default="agent",
)
@click.option(
    "--password/--no-password",
    default=True,
    help="Prompt for a password (12+ characters).",
)
@click.pass_obj
def staff_create(
    settings: Settings, email: str, display_name: str, role: str, password: bool
) -> None:
    """Create a staff member who can sign in with tokenCreate."""
    secret = None
    if password:
        secret = (
            click.prompt("Password", hide_input=True, confirmation_prompt=True)
            if sys.stdin.isatty()
            else getpass.getpass("")
        )
    try:
        staff_id = run(_create_staff(settings, email, display_name, role, secret))
    except DomainError as exc:
        fail(describe(exc))
    click.echo(f"Created staff member {staff_id} ({role}).")


def signer_for(settings: Settings) -> TokenSigner:
    return TokenSigner(
        secret=settings.resolved_secret(),
        ttl=timedelta(minutes=settings.token_ttl_minutes),
    )


async def _issue_token(settings: Settings, email: str, ttl: timedelta | None) -> str:
    from sqlalchemy import select

    from crm.staff.models import StaffMember

    async def work(database: Database) -> str:
        async with database.session(write=False) as session:
            member = await session.scalar(
                select(StaffMember).where(
                    StaffMember.email_key == email.strip().lower()
                )
            )
        if member is None or member.archived_at is not None:
            raise click.ClickException(f"No active staff member with email {email}.")
        return signer_for(settings).issue(f"staff:{member.id}", ttl=ttl).token

    return await with_database(settings, work)


@main.group()
def token() -> None:
    """Access tokens."""


@token.command("issue")
@click.option("--email", required=True, help="The staff member's email.")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 90),
    default=None,
    help="Lifetime (default: MUTUAL_TOKEN_TTL_MINUTES).",
)
@click.pass_obj
def token_issue(settings: Settings, email: str, hours: int | None) -> None:
    """Print a bearer token for a staff member."""
    click.echo(
        run(_issue_token(settings, email, timedelta(hours=hours) if hours else None))
    )


# --- demo ---


async def _ensure_admin(database: Database) -> None:
    from sqlalchemy import select

    from crm.staff import service
    from crm.staff.models import StaffMember

    async with database.transaction() as session:
        found = await session.scalar(
            select(StaffMember).where(StaffMember.email_key == DEMO_ADMIN)
        )
        if found is None:
            await service.create_staff(
                session,
                SystemActor(name="demo"),
                email=DEMO_ADMIN,
                display_name="Demo Admin",
                role="admin",
                password=None,
            )


async def _seed(
    settings: Settings, customers: int, seed: int, quiet: bool = False
) -> Any:
    from tqdm import tqdm

    from crm.demo import seed_demo

    async def work(database: Database) -> Any:
        with tqdm(
            total=customers, unit="customers", disable=quiet, desc="Seeding"
        ) as bar:

            def progress(done: int) -> None:
                bar.update(done - bar.n)

            return await seed_demo(
                database, customers=customers, seed=seed, progress=progress
            )

    return await with_database(settings, work)


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option(
    "--customers", type=click.IntRange(1, 250_000), default=500, show_default=True
)
@click.option(
    "--seed", type=int, default=7, show_default=True, help="Same seed, same data."
)
@click.pass_obj
def demo_seed(settings: Settings, customers: int, seed: int) -> None:
    """Fill the database with realistic, deterministic demo customers and history."""
    try:
        summary = run(_seed(settings, customers, seed))
    except DomainError as exc:
        fail(describe(exc))
    click.echo(
        f"Seeded {summary.customers} customers, {summary.interactions} interactions, "
        f"{summary.staff} staff in {summary.seconds:.1f}s."
    )


# --- import / export ---


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["customers", "interactions"]), required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="Default: from the file suffix.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write rejected rows (JSON lines) here.",
)
@click.pass_obj
def import_command(
    settings: Settings, path: Path, kind: str, fmt: str | None, report: Path | None
) -> None:
    """Create or update customers or interactions from CSV or JSON lines."""
    from tqdm import tqdm

    from crm.transfer import import_file

    async def work(database: Database) -> Any:
        with tqdm(unit="rows", desc=f"Importing {kind}") as bar:

            def progress(done: int) -> None:
                bar.update(done - bar.n)

            return await import_file(
                database,
                path,
                kind=kind,
                fmt=fmt,
                actor=SystemActor(name="import"),
                progress=progress,
            )  # type: ignore[arg-type]

    result = run(with_database(settings, work))
    click.echo(
        f"Read {result.read}: created {result.created}, updated {result.updated}, "
        f"unchanged {result.unchanged}, rejected {len(result.rejected)}."
    )
    for rejected in result.rejected[:50]:
        where = f" ({rejected.field})" if rejected.field else ""
        click.echo(f"  line {rejected.line}{where}: {rejected.reason}", err=True)
    if len(result.rejected) > 50:
        click.echo(f"  ... and {len(result.rejected) - 50} more", err=True)
    if report is not None:
        import orjson

        with report.open("wb") as out:
            for rejected in result.rejected:
                out.write(orjson.dumps(rejected.__dict__, default=str) + b"\n")
        click.echo(f"Rejected rows written to {report}.")
    if result.rejected:
        sys.exit(2)


@main.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["customers", "interactions"]), required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None)
@click.pass_obj
def export_command(settings: Settings, path: Path, kind: str, fmt: str | None) -> None:
    """Write customers or interactions to CSV or JSON lines."""
    from crm.transfer import export_file

    async def work(database: Database) -> int:
        return await export_file(
            database, path, kind=kind, fmt=fmt, actor=SystemActor(name="export")
        )  # type: ignore[arg-type]

    written = run(with_database(settings, work))
    click.echo(f"Wrote {written} {kind} to {path}.")


# --- serve ---


async def _prepare(settings: Settings, demo_customers: int | None) -> str | None:
    """Migrate (SQLite) or check (PostgreSQL); seed demo data; return a demo token."""
    url = settings.database_url
    if is_sqlite(url):
        await migrate.upgrade(url)
    elif not await migrate.is_current(url):
        raise click.ClickException(
            "Migrations are pending: run `mutual db upgrade` first."
        )
    if demo_customers is None:
        return None

    async def work(database: Database) -> bool:
        from sqlalchemy import func, select

        from crm.customers.models import Customer

        async with database.session(write=False) as session:
            return bool(
                await session.scalar(select(func.count()).select_from(Customer))
            )

    if not await with_database(settings, work):
        summary = await _seed(settings, demo_customers, 7)
        click.echo(
            f"Seeded {summary.customers} demo customers, "
            f"{summary.interactions} interactions."
        )
    else:
        await with_database(settings, _ensure_admin)
    return await _issue_token(settings, DEMO_ADMIN, timedelta(days=7))


@main.command()
@click.option("--host", default=None, help="Default: MUTUAL_HOST (127.0.0.1).")
@click.option("--port", type=int, default=None, help="Default: MUTUAL_PORT (8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--demo",
    "demo_customers",
    type=int,
    default=None,
    flag_value=500,
    help="Seed demo data when empty and print an admin token.",
)
@click.pass_obj
def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    workers: int,
    demo_customers: int | None,
) -> None:
    """Run the GraphQL server."""
    import uvicorn

    token_value = run(_prepare(settings, demo_customers))
    host = host or settings.host
    port = port or settings.port
    safe_url = normalize_url(settings.database_url)
    if "@" in safe_url:
        safe_url = safe_url.split("://", 1)[0] + "://***@" + safe_url.split("@", 1)[1]
    click.echo(f"Mutual on http://{host}:{port}/graphql  (database: {safe_url})")
    if token_value:
        click.echo(
            f"\nDemo admin token ({DEMO_ADMIN}, valid 7 days):\n\n  {token_value}\n"
        )
        click.echo("Send it as the header  Authorization: Bearer <token>\n")
    settings.resolved_secret()  # make the development key before workers start
    os.environ["MUTUAL_DATABASE_URL"] = settings.database_url  # for the workers
    logging.basicConfig(level=settings.log_level.upper())
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        env_file=None,
    )


# --- schema ---


@main.command("schema")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def print_schema(output: Path | None) -> None:
    """Print the GraphQL SDL (schema/schema.graphql is this, committed)."""
    from schema import schema as graphql_schema

    sdl = graphql_schema.as_str() + "\n"
    if output is None:
        click.echo(sdl, nl=False)
    else:
        output.write_text(sdl)


# --- API keys of partner apps ---


@main.group()
def apikey() -> None:
    """API keys of partner apps (integrations)."""


async def _create_api_key(
    settings: Settings,
    partner: str,
    name: str,
    scopes: tuple[str, ...],
    expires_days: int | None,
) -> tuple[Any, bool]:
    from crm.columns import utcnow
    from crm.partners import service

    actor = SystemActor(name="cli")
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None

    async def work(database: Database) -> tuple[Any, bool]:
        async with database.transaction() as session:
            app = await service.find_partner_app(session, actor, partner)
            created = app is None
            if app is None:
                if partner.strip().isdigit():
                    raise click.ClickException(f"No partner app with ID {partner}.")
                app = await service.create_partner_app(session, actor, name=partner)
            assert app.id is not None
            issued = await service.create_api_key(
                session,
                actor,
                partner_app_id=app.id,
                name=name,
                scopes=scopes,
                expires_at=expires_at,
            )
            return issued, created

    return await with_database(settings, work)


@apikey.command("create")
@click.option(
    "--partner",
    required=True,
    help="The partner app's ID or name; a name no active app has creates the app.",
)
@click.option("--name", required=True, help="What the key is for, e.g. production.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="A scope the key holds; repeat the option for several.",
)
@click.option(
    "--expires-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Lifetime in days (default: until revoked).",
)
@click.pass_obj
def apikey_create(
    settings: Settings,
    partner: str,
    name: str,
    scopes: tuple[str, ...],
    expires_days: int | None,
) -> None:
    """Issue an API key; the key alone goes to standard output, this once."""
    try:
        issued, created = run(
            _create_api_key(settings, partner, name, scopes, expires_days)
        )
    except DomainError as exc:
        fail(describe(exc))
    app, key = issued.partner_app, issued.key
    if created:
        click.echo(f"Created partner app {app.id} ({app.name}).", err=True)
    expiry = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "never"
    click.echo(
        f"Created API key {key.prefix} for partner app {app.id} ({app.name}); "
        f"scopes: {' '.join(key.scopes)}; expires: {expiry}. "
        "Store the key now: it is not shown again.",
        err=True,
    )
    click.echo(issued.raw)


@apikey.command("revoke")
@click.argument("prefix")
@click.pass_obj
def apikey_revoke(settings: Settings, prefix: str) -> None:
    """Revoke the key with PREFIX (mut_ and 8 hex digits): refused from now on."""
    from crm.partners import service

    async def work(database: Database) -> Any:
        async with database.transaction() as session:
            return await service.revoke_api_key_by_prefix(
                session, SystemActor(name="cli"), prefix
            )

    try:
        key = run(with_database(settings, work))
    except DomainError as exc:
        fail(describe(exc))
    click.echo(f"Revoked API key {key.prefix} ({key.name}).")


@apikey.command("list")
@click.pass_obj
def apikey_list(settings: Settings) -> None:
    """List every API key (prefix, app, scopes, status); never a secret."""
    from crm.partners import service

    async def work(database: Database) -> list[tuple[Any, Any]]:
        async with database.transaction(write=False) as session:
            return await service.all_api_keys(session, SystemActor(name="cli"))

    rows = run(with_database(settings, work))
    if not rows:
        click.echo("No API keys.")
        return

    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else "-"

    header = ("PREFIX", "APP", "NAME", "SCOPES", "STATUS", "EXPIRES", "LAST USED")
    table = [header] + [
        (
            key.prefix,
            f"{app.id} {app.name}",
            key.name,
            ",".join(key.scopes),
            service.key_status(key, app).value,
            when(key.expires_at),
            when(key.last_used_at),
        )
        for key, app in rows
    ]
    widths = [min(max(len(row[i]) for row in table), 40) for i in range(len(header))]
    for row in table:
        cells = [
            cell[:40].ljust(width) for cell, width in zip(row, widths, strict=True)
        ]
        click.echo("  ".join(cells).rstrip())

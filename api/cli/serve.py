"""`mutual serve` and `mutual schema`: the GraphQL server and its SDL."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import click

from api.cli.common import run, with_database
from api.cli.data import DEMO_ADMIN, ensure_demo_admin, seed_demo_data
from api.cli.staff import issue_token
from api.settings import Settings
from crm import migrate
from crm.db import Database, is_sqlite, normalize_url


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
        summary = await seed_demo_data(settings, demo_customers, 7)
        click.echo(
            f"Seeded {summary.customers} demo customers, "
            f"{summary.interactions} interactions."
        )
    else:
        await with_database(settings, ensure_demo_admin)
    return await issue_token(settings, DEMO_ADMIN, timedelta(days=7))


@click.command()
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


@click.command("schema")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def print_schema(output: Path | None) -> None:
    """Print the GraphQL SDL (schema/schema.graphql is this, committed)."""
    from schema import schema as graphql_schema

    sdl = graphql_schema.as_str() + "\n"
    if output is None:
        click.echo(sdl, nl=False)
    else:
        output.write_text(sdl)

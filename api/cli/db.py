"""`mutual db`: database migrations."""

from __future__ import annotations

import click

from api.cli.common import fail, run
from api.settings import Settings
from crm import migrate


@click.group()
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

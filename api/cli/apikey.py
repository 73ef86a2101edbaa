"""`mutual apikey`: API keys of partner apps (integrations)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from api.cli.common import describe, fail, run, with_database
from api.settings import Settings
from crm.actors import SystemActor
from crm.db import Database
from crm.errors import DomainError
from crm.permissions import Scope


@click.group()
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

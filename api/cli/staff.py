"""`mutual staff` and `mutual token`: staff members and their access tokens."""

from __future__ import annotations

import getpass
import sys
from datetime import timedelta

import click
from sqlmodel import col

from api.cli.common import describe, fail, run, with_database
from api.settings import Settings
from crm.actors import SystemActor
from crm.db import Database
from crm.errors import DomainError
from crm.tokens import TokenSigner


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


@click.group()
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
    """The token signer the settings describe."""
    return TokenSigner(
        secret=settings.resolved_secret(),
        ttl=timedelta(minutes=settings.token_ttl_minutes),
    )


async def issue_token(settings: Settings, email: str, ttl: timedelta | None) -> str:
    """A bearer token for the active staff member with `email`."""
    from sqlalchemy import select

    from crm.staff.models import StaffMember

    async def work(database: Database) -> str:
        async with database.session(write=False) as session:
            member = await session.scalar(
                select(StaffMember).where(
                    col(StaffMember.email_key) == email.strip().lower()
                )
            )
        if member is None or member.archived_at is not None:
            raise click.ClickException(f"No active staff member with email {email}.")
        return signer_for(settings).issue(f"staff:{member.id}", ttl=ttl).token

    return await with_database(settings, work)


async def issue_customer_token(
    settings: Settings, email: str, ttl: timedelta | None
) -> str:
    """A token for the customer with `email`, as customerTokenCreate issues it
    (for a portal developer or support; archived, merged or erased customers get
    none)."""
    from crm.customer_auth.service import can_sign_in, customer_by_email

    async def work(database: Database) -> str:
        async with database.session(write=False) as session:
            customer = await customer_by_email(session, email)
        if not can_sign_in(customer):
            raise click.ClickException(
                f"No customer who may sign in has email {email}."
            )
        lifetime = ttl or timedelta(minutes=settings.customer_token_ttl_minutes)
        issued = signer_for(settings).issue(f"customer:{customer.id}", ttl=lifetime)
        return issued.token

    return await with_database(settings, work)


@click.group()
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
        run(issue_token(settings, email, timedelta(hours=hours) if hours else None))
    )


@token.command("customer")
@click.option("--email", required=True, help="The customer's email.")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 30),
    default=None,
    help="Lifetime (default: MUTUAL_CUSTOMER_TOKEN_TTL_MINUTES).",
)
@click.pass_obj
def token_customer(settings: Settings, email: str, hours: int | None) -> None:
    """Print a token for a customer's own view (`me`), e.g. to try a portal."""
    click.echo(
        run(
            issue_customer_token(
                settings, email, timedelta(hours=hours) if hours else None
            )
        )
    )

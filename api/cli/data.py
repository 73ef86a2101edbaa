"""`mutual demo`, `mutual import` and `mutual export`: data in and out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import click
from sqlmodel import col

from api.cli.common import describe, fail, run, with_database
from api.settings import Settings
from crm.actors import SystemActor
from crm.db import Database
from crm.errors import DomainError
from crm.transfer import Format, Kind

DEMO_ADMIN = "admin@mutual.example"


async def ensure_demo_admin(database: Database) -> None:
    """Create the demo admin unless it exists."""
    from sqlalchemy import select

    from crm.staff import service
    from crm.staff.models import StaffMember

    async with database.transaction() as session:
        found = await session.scalar(
            select(StaffMember).where(col(StaffMember.email_key) == DEMO_ADMIN)
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


async def seed_demo_data(
    settings: Settings, customers: int, seed: int, quiet: bool = False
) -> Any:
    """Seed demo data with a progress bar; returns the seeding summary."""
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


@click.group()
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
        summary = run(seed_demo_data(settings, customers, seed))
    except DomainError as exc:
        fail(describe(exc))
    click.echo(
        f"Seeded {summary.customers} customers, {summary.interactions} interactions, "
        f"{summary.staff} staff in {summary.seconds:.1f}s."
    )


@click.command("import")
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
                kind=cast(Kind, kind),
                fmt=cast(Format | None, fmt),
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


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["customers", "interactions"]), required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None)
@click.pass_obj
def export_command(settings: Settings, path: Path, kind: str, fmt: str | None) -> None:
    """Write customers or interactions to CSV or JSON lines."""
    from crm.transfer import export_file

    async def work(database: Database) -> int:
        return await export_file(
            database,
            path,
            kind=cast(Kind, kind),
            fmt=cast(Format | None, fmt),
            actor=SystemActor(name="export"),
        )

    written = run(with_database(settings, work))
    click.echo(f"Wrote {written} {kind} to {path}.")

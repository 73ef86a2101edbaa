"""`mutual segments`: Segments: refresh, bootstrap the built-in ones."""

from __future__ import annotations

import click

from api.cli.common import describe, fail, run, with_database
from api.settings import Settings
from crm.actors import SystemActor
from crm.db import Database
from crm.errors import DomainError
from crm.ids import parse_global_id

ACTOR = SystemActor(name="cli")


def _segment_pk(value: str) -> int:
    """A segment's global ID, or its number."""
    if value.isdigit():
        return int(value)
    try:
        type_name, pk = parse_global_id(value)
    except DomainError:
        type_name, pk = "", 0
    if type_name != "Segment":
        fail(f"{value!r} is not a segment ID.")
    return pk


@click.group()
def segments() -> None:
    """Segments: refresh, bootstrap the built-in ones."""


@segments.command("refresh")
@click.argument("ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every dynamic segment.")
@click.pass_obj
def refresh(settings: Settings, ids: tuple[str, ...], all_: bool) -> None:
    """Recompute the members of the given dynamic segments (or --all)."""
    from crm.segments.jobs import dynamic_segment_ids, refresh_many
    from crm.segments.membership import MembershipChange

    if bool(ids) == all_:
        fail("Name segment IDs or pass --all (not both).")
    wanted = [_segment_pk(i) for i in ids]

    async def work(database: Database) -> list[MembershipChange]:
        chosen = wanted or await dynamic_segment_ids(database)
        total = len(chosen)

        def progress(done: int, change: MembershipChange) -> None:
            click.echo(
                f"[{done}/{total}] {change.segment.name}: +{change.entered} "
                f"-{change.left}, {change.segment.size} members"
            )

        return await refresh_many(database, ACTOR, chosen, progress=progress)

    try:
        results = run(with_database(settings, work))
    except DomainError as exc:
        fail(describe(exc))
    click.echo(f"Refreshed {len(results)} segment(s).")


@segments.command("bootstrap")
@click.pass_obj
def bootstrap(settings: Settings) -> None:
    """Create the built-in segments (profitable, loyal, strategic) if missing."""
    from crm.segments.builtins import bootstrap as create_builtins

    async def work(database: Database) -> list[str]:
        async with database.transaction() as session:
            created = await create_builtins(session, ACTOR)
        return [s.builtin_key or s.name for s in created]

    try:
        created = run(with_database(settings, work))
    except DomainError as exc:
        fail(describe(exc))
    if created:
        click.echo(f"Created {len(created)} built-in segment(s): {', '.join(created)}.")
    else:
        click.echo("The built-in segments exist already.")

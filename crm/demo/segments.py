"""Demo data for segments, written after the customers and interactions."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from crm.actors import SystemActor
from crm.db import Database
from crm.segments.builtins import bootstrap
from crm.segments.jobs import refresh_many
from crm.segments.models import Segment

ACTOR = SystemActor(name="demo")


async def seed(database: Database, *, seed: int) -> None:
    """Add the segments part of the demo (deterministic for `seed`): the built-in
    segments, refreshed over the demo data."""
    async with database.transaction() as session:
        await bootstrap(session, ACTOR)
        builtin = await session.scalars(
            select(col(Segment.id))
            .where(col(Segment.builtin_key).is_not(None))
            .order_by(col(Segment.id))
        )
        ids = [i for i in builtin.all() if i is not None]
    await refresh_many(database, ACTOR, ids)

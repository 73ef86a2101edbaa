"""Refreshing many segments, one transaction each: the CLI, the worker, the demo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import col

from crm.actors import Actor, SystemActor
from crm.columns import utcnow
from crm.db import Database
from crm.segments.membership import MembershipChange, refresh_segment
from crm.segments.models import Segment, SegmentKind

WORKER = SystemActor(name="worker")


async def dynamic_segment_ids(
    database: Database, *, due_before: datetime | None = None
) -> list[int]:
    """Dynamic segments, all of them or those not refreshed since `due_before`."""
    stmt = select(col(Segment.id)).where(col(Segment.kind) == SegmentKind.DYNAMIC.value)
    if due_before is not None:
        stmt = stmt.where(
            or_(
                col(Segment.refreshed_at).is_(None),
                col(Segment.refreshed_at) < due_before,
            )
        )
    async with database.transaction(write=False) as session:
        found = await session.scalars(stmt.order_by(col(Segment.id)))
        return [i for i in found.all() if i is not None]


async def refresh_many(
    database: Database,
    actor: Actor,
    segment_ids: Sequence[int],
    *,
    due_before: datetime | None = None,
    progress: Callable[[int, MembershipChange], None] | None = None,
) -> list[MembershipChange]:
    """Refresh each segment in its own transaction (a long list never holds one
    lock for long); `progress` gets the count done and the last result."""
    results = []
    for done, segment_id in enumerate(segment_ids, start=1):
        async with database.transaction() as session:
            result = await refresh_segment(
                session, actor, segment_id, due_before=due_before
            )
        results.append(result)
        if progress is not None:
            progress(done, result)
    return results


async def refresh_due(
    database: Database, *, max_age: timedelta, actor: Actor = WORKER
) -> list[MembershipChange]:
    """Refresh the dynamic segments last refreshed longer than `max_age` ago (or
    never). Safe with several workers: each refresh re-checks, under the segment's
    lock, that it is still due."""
    due_before = utcnow() - max_age
    ids = await dynamic_segment_ids(database, due_before=due_before)
    results = await refresh_many(database, actor, ids, due_before=due_before)
    return [r for r in results if r.applied]

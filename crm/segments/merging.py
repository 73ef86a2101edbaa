"""Segment memberships when one customer is merged into another.

The merged-away customer (the source) leaves every segment it is a current member
of. In a static segment the customer who stays (the target) takes its place
unless it already is a member; a dynamic segment's membership of the target is
left to its next refresh (its rule decides). The affected segments' sizes are
recounted and one `segment.customer_left` / `segment.customer_entered` outbox
event per stint is written, in the shape crm.segments.membership emits them.

Everything is set-based (a fixed number of statements whatever the number of
segments) and runs in the caller's transaction. The affected segment rows are
locked first, as a refresh or a static change locks them, so a merge and a
refresh of the same segment take turns.

The caller's permission to merge customers is the only check: moving the
memberships is part of the merge, not a segment operation of the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.audit.models import OutboxEvent
from crm.columns import UTCDateTime, utcnow
from crm.ids import to_global_id
from crm.segments.membership import ENTERED, LEFT, json_object
from crm.segments.models import Segment, SegmentKind, SegmentMembership


@dataclass
class MergedMemberships:
    """What moving the memberships did."""

    # Segments the source was a current member of.
    segments: int
    # The source's stints closed (one per segment above).
    left: int
    # The target's stints opened (static segments it was not yet a member of).
    entered: int


def _current(customer_id: int) -> Any:
    """Segment IDs `customer_id` is a current member of."""
    return select(col(SegmentMembership.segment_id)).where(
        col(SegmentMembership.customer_id) == customer_id,
        col(SegmentMembership.left_at).is_(None),
    )


def _change_time(refreshed: list[datetime | None]) -> datetime:
    """Now, strictly after the affected segments' last changes, as a refresh or a
    static change picks its time: the stints changed here are found by it."""
    now = utcnow()
    latest = max((r for r in refreshed if r is not None), default=None)
    if latest is not None and now <= latest:
        now = latest + timedelta(microseconds=1)
    return now


async def _emit(
    session: AsyncSession,
    actor: Actor,
    *,
    topic: str,
    customer_id: int,
    stamp: Any,
    segment_ids: list[int],
    now: datetime,
) -> None:
    """One outbox event per stint of `customer_id` opened or closed at `now`."""
    segment_gid = case(
        {sid: to_global_id("Segment", sid) for sid in segment_ids},
        value=col(SegmentMembership.segment_id),
    )
    payload = json_object(
        literal("entity", String()),
        literal("Customer", String()),
        literal("id", String()),
        col(SegmentMembership.customer_id),
        literal("actor", String()),
        literal(actor.ref, String()),
        literal("segment_id", String()),
        col(SegmentMembership.segment_id),
        literal("segment", String()),
        segment_gid,
        literal("at", String()),
        literal(now.isoformat(), String()),
    )
    rows = (
        select(literal(now, UTCDateTime()), literal(topic, String()), payload)
        .where(
            col(SegmentMembership.customer_id) == customer_id,
            col(SegmentMembership.segment_id).in_(segment_ids),
            col(stamp) == now,
        )
        .order_by(col(SegmentMembership.segment_id))
    )
    await session.execute(
        insert(OutboxEvent).from_select(["occurred_at", "topic", "payload"], rows)
    )


async def move_memberships(
    session: AsyncSession, actor: Actor, *, source_id: int, target_id: int
) -> MergedMemberships:
    """Close the source's current stints; in static segments, open the target's
    where it is not yet a member; recount sizes; write the outbox events."""
    affected = (
        await session.execute(
            select(col(Segment.id), col(Segment.kind), col(Segment.refreshed_at))
            .where(col(Segment.id).in_(_current(source_id)))
            .order_by(col(Segment.id))
            .with_for_update()
        )
    ).all()
    if not affected:
        return MergedMemberships(segments=0, left=0, entered=0)
    segment_ids: list[int] = []
    static_ids: list[int] = []
    for sid, kind, _ in affected:
        assert sid is not None
        segment_ids.append(sid)
        if kind == SegmentKind.STATIC.value:
            static_ids.append(sid)
    now = _change_time([refreshed for _, _, refreshed in affected])

    closed = await session.execute(
        update(SegmentMembership)
        .where(
            col(SegmentMembership.customer_id) == source_id,
            col(SegmentMembership.segment_id).in_(segment_ids),
            col(SegmentMembership.left_at).is_(None),
        )
        .values(left_at=now)
        .execution_options(synchronize_session=False)
    )
    left = int(closed.rowcount or 0)  # type: ignore[attr-defined]

    entered = 0
    if static_ids:
        opening = select(
            col(Segment.id),
            literal(target_id, Integer()),
            literal(now, UTCDateTime()),
        ).where(
            col(Segment.id).in_(static_ids),
            col(Segment.id).not_in(_current(target_id)),
        )
        opened = await session.execute(
            insert(SegmentMembership).from_select(
                ["segment_id", "customer_id", "entered_at"], opening
            )
        )
        entered = int(opened.rowcount or 0)  # type: ignore[attr-defined]

    # Sizes are recounted; a static segment's change time is its last membership
    # change (as for an added or removed member), a dynamic one's refresh time
    # stays that of its last refresh. The definition's version is not bumped.
    members = (
        select(func.count())
        .select_from(SegmentMembership)
        .where(
            and_(
                col(SegmentMembership.segment_id) == col(Segment.id),
                col(SegmentMembership.left_at).is_(None),
            )
        )
        .scalar_subquery()
    )
    await session.execute(
        update(Segment)
        .where(col(Segment.id).in_(segment_ids))
        .values(
            size=members,
            refreshed_at=case(
                (
                    col(Segment.kind) == SegmentKind.STATIC.value,
                    literal(now, UTCDateTime()),
                ),
                else_=col(Segment.refreshed_at),
            ),
        )
        .execution_options(synchronize_session=False)
    )

    await _emit(
        session,
        actor,
        topic=LEFT,
        customer_id=source_id,
        stamp=SegmentMembership.left_at,
        segment_ids=segment_ids,
        now=now,
    )
    if entered:
        await _emit(
            session,
            actor,
            topic=ENTERED,
            customer_id=target_id,
            stamp=SegmentMembership.entered_at,
            segment_ids=static_ids,
            now=now,
        )
    return MergedMemberships(segments=len(segment_ids), left=left, entered=entered)

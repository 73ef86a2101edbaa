"""Membership: refresh a dynamic segment, add and remove static members.

Every change is set-based: one INSERT .. SELECT opens the stints of those who
enter, one UPDATE closes the stints of those who leave, and one INSERT .. SELECT
per direction writes their `segment.customer_entered` / `segment.customer_left`
events to the outbox, all in the caller's transaction. The segment row is locked
first (SELECT .. FOR UPDATE on PostgreSQL; SQLite writers hold the database lock
from BEGIN IMMEDIATE), so two refreshes of one segment take turns, and a partial
unique index keeps one current stint per customer and segment whatever happens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.functions import GenericFunction
from sqlmodel import col

from crm import events
from crm.actors import Actor
from crm.audit.models import OutboxEvent
from crm.columns import JSONDoc, UTCDateTime, utcnow
from crm.customers.filters import CUSTOMER_SPEC, mentions_archived
from crm.customers.models import Customer
from crm.customers.policies import customer_scope
from crm.errors import FieldError, NotFound, ValidationFailed
from crm.filtering import compile_where
from crm.ids import to_global_id
from crm.segments import policies
from crm.segments.models import Segment, SegmentKind, SegmentMembership
from crm.segments.rules import compile_rule

ENTERED = "segment.customer_entered"
LEFT = "segment.customer_left"
MAX_IDS = 1000


class json_object(GenericFunction[Any]):
    """A JSON object built in SQL: json_object on SQLite, jsonb_build_object on
    PostgreSQL (arguments: key, value, key, value...)."""

    type = JSONDoc
    inherit_cache = True


@compiles(json_object, "postgresql")
def _json_object_pg(element: Any, compiler: Any, **kw: Any) -> str:
    return f"jsonb_build_object({compiler.process(element.clauses, **kw)})"


@dataclass
class MembershipChange:
    """What a refresh or a static change did."""

    segment: Segment
    entered: int
    left: int
    # False when a due-only refresh found the segment already fresh.
    applied: bool = True


async def lock_segment(session: AsyncSession, actor: Actor, segment_id: int) -> Segment:
    """The segment, locked for this transaction (fresh from the database)."""
    found = (
        await session.scalars(
            select(Segment)
            .where(policies.segment_scope(actor), col(Segment.id) == segment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise NotFound("No segment with that ID.", field="id")
    return found


def _change_time(segment: Segment) -> datetime:
    """Now, strictly after the segment's last change: the stints this change opens
    or closes are found again by that exact time."""
    now = utcnow()
    if segment.refreshed_at is not None and now <= segment.refreshed_at:
        now = segment.refreshed_at + timedelta(microseconds=1)
    return now


def _current(segment_id: int) -> Any:
    return select(col(SegmentMembership.customer_id)).where(
        col(SegmentMembership.segment_id) == segment_id,
        col(SegmentMembership.left_at).is_(None),
    )


async def _enter(
    session: AsyncSession, segment_id: int, who: Any, now: datetime
) -> int:
    """Open a stint for each customer `who` selects (ids) not yet in the segment."""
    rows = select(
        literal(segment_id, Integer()),
        who.c.id,
        literal(now, UTCDateTime()),
    ).where(who.c.id.not_in(_current(segment_id)))
    result = await session.execute(
        insert(SegmentMembership).from_select(
            ["segment_id", "customer_id", "entered_at"], rows
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _leave(
    session: AsyncSession,
    segment_id: int,
    now: datetime,
    *,
    staying: Any = None,
    going: Any = None,
) -> int:
    """Close the current stints of those not in `staying` (or those in `going`)."""
    member = col(SegmentMembership.customer_id)
    which = member.not_in(staying) if staying is not None else member.in_(going)
    result = await session.execute(
        update(SegmentMembership)
        .where(
            col(SegmentMembership.segment_id) == segment_id,
            col(SegmentMembership.left_at).is_(None),
            which,
        )
        .values(left_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _emit(
    session: AsyncSession,
    actor: Actor,
    segment_id: int,
    now: datetime,
    *,
    entered: int,
    left: int,
) -> None:
    """One outbox event per customer who entered or left at `now`, in bulk."""
    for topic, count, stamp in (
        (ENTERED, entered, SegmentMembership.entered_at),
        (LEFT, left, SegmentMembership.left_at),
    ):
        if not count:
            continue
        payload = json_object(
            literal("entity", String()),
            literal("Customer", String()),
            literal("id", String()),
            col(SegmentMembership.customer_id),
            literal("actor", String()),
            literal(actor.ref, String()),
            literal("segment_id", String()),
            literal(segment_id, Integer()),
            literal("segment", String()),
            literal(to_global_id("Segment", segment_id), String()),
            literal("at", String()),
            literal(now.isoformat(), String()),
        )
        rows = select(
            literal(now, UTCDateTime()), literal(topic, String()), payload
        ).where(
            col(SegmentMembership.segment_id) == segment_id,
            col(stamp) == now,
        )
        await session.execute(
            insert(OutboxEvent).from_select(["occurred_at", "topic", "payload"], rows)
        )


async def _finish(
    session: AsyncSession, segment: Segment, now: datetime, *, refreshed: bool
) -> int:
    """Store the new size (and refresh time) without bumping the definition's
    version: membership is not the definition."""
    assert segment.id is not None
    size = int(
        await session.scalar(
            select(func.count()).select_from(_current(segment.id).subquery())
        )
        or 0
    )
    values: dict[str, Any] = {"size": size}
    if refreshed:
        values["refreshed_at"] = now
    await session.execute(
        update(Segment)
        .where(col(Segment.id) == segment.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(segment, name, value)
    return size


async def refresh_segment(
    session: AsyncSession,
    actor: Actor,
    segment_id: int,
    *,
    due_before: datetime | None = None,
) -> MembershipChange:
    """Recompute a dynamic segment's members; with `due_before`, only when it was
    last refreshed before then (the worker's claim: a concurrent worker that
    refreshed it first makes this one a no-op)."""
    policies.can_manage(actor)
    segment = await lock_segment(session, actor, segment_id)
    if segment.kind != SegmentKind.DYNAMIC.value:
        raise ValidationFailed(
            [
                FieldError(
                    "id",
                    "NOT_DYNAMIC",
                    "A static segment's members change only when added or removed.",
                )
            ]
        )
    fresh = segment.refreshed_at is not None and (
        due_before is not None and segment.refreshed_at >= due_before
    )
    if fresh:
        return MembershipChange(segment, 0, 0, applied=False)
    now = _change_time(segment)
    condition = compile_rule(segment.rule, actor, now)
    matching = select(col(Customer.id).label("id")).where(condition).subquery()
    entered = await _enter(session, segment_id, matching, now)
    left = await _leave(
        session,
        segment_id,
        now,
        staying=select(col(Customer.id)).where(condition),
    )
    await _emit(session, actor, segment_id, now, entered=entered, left=left)
    before = segment.size
    size = await _finish(session, segment, now, refreshed=True)
    await events.record(
        session,
        actor,
        action="segment.refreshed",
        entity_type="Segment",
        entity_id=segment_id,
        changes={
            "entered": entered,
            "left": left,
            "size": {"before": before, "after": size},
        },
    )
    return MembershipChange(segment, entered, left)


def _selection(
    actor: Actor,
    customer_ids: Sequence[int] | None,
    where: Mapping[str, Any] | None,
) -> Any:
    """The customers a static change names: by IDs or by a customer filter."""
    if (customer_ids is None) == (where is None):
        raise ValidationFailed(
            [
                FieldError(
                    "customer_ids",
                    "REQUIRED",
                    "Give either customerIds or where (a customer filter).",
                )
            ]
        )
    conditions: list[ColumnElement[bool]] = [customer_scope(actor)]
    if customer_ids is not None:
        if len(customer_ids) > MAX_IDS:
            raise ValidationFailed(
                [
                    FieldError(
                        "customer_ids",
                        "TOO_MANY",
                        f"At most {MAX_IDS} customers at once; use a filter.",
                    )
                ]
            )
        conditions.append(col(Customer.id).in_(sorted(set(customer_ids))))
    else:
        conditions.append(compile_where(CUSTOMER_SPEC, where, actor, path="where"))
        if not mentions_archived(where):
            conditions.append(col(Customer.archived_at).is_(None))
    return select(col(Customer.id).label("id")).where(and_(true(), *conditions))


async def _check_found(
    session: AsyncSession, chosen: Any, customer_ids: Sequence[int] | None
) -> None:
    if customer_ids is None:
        return
    found = set((await session.scalars(chosen)).all())
    missing = [i for i in dict.fromkeys(customer_ids) if i not in found]
    if missing:
        named = ", ".join(to_global_id("Customer", i) for i in missing[:10])
        raise ValidationFailed(
            [
                FieldError(
                    "customer_ids",
                    "NOT_FOUND",
                    f"No customer with these IDs: {named}.",
                )
            ]
        )


async def change_static_members(
    session: AsyncSession,
    actor: Actor,
    segment_id: int,
    *,
    add: bool,
    customer_ids: Sequence[int] | None = None,
    where: Mapping[str, Any] | None = None,
) -> MembershipChange:
    """Add customers to (or remove them from) a static segment, in bulk."""
    policies.can_manage(actor)
    chosen = _selection(actor, customer_ids, where)
    segment = await lock_segment(session, actor, segment_id)
    if segment.kind != SegmentKind.STATIC.value:
        raise ValidationFailed(
            [
                FieldError(
                    "segment_id",
                    "NOT_STATIC",
                    "A dynamic segment's members follow its rule; change the rule.",
                )
            ]
        )
    await _check_found(session, chosen, customer_ids)
    now = _change_time(segment)
    if add:
        entered, left = await _enter(session, segment_id, chosen.subquery(), now), 0
    else:
        entered, left = 0, await _leave(session, segment_id, now, going=chosen)
    await _emit(session, actor, segment_id, now, entered=entered, left=left)
    before = segment.size
    # The change time doubles as the last membership change of a static segment.
    size = await _finish(session, segment, now, refreshed=True)
    changes: dict[str, Any] = {
        "entered": entered,
        "left": left,
        "size": {"before": before, "after": size},
    }
    if customer_ids is not None:
        changes["customer_ids"] = sorted(set(customer_ids))
    else:
        changes["where"] = events.jsonable(where)
    await events.record(
        session,
        actor,
        action="segment.members_added" if add else "segment.members_removed",
        entity_type="Segment",
        entity_id=segment_id,
        changes=changes,
    )
    return MembershipChange(segment, entered, left)

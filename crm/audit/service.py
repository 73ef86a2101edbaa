"""Reading the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.audit.models import AuditEvent
from crm.interactions.filters import INTERACTION_FIELDS
from crm.pagination import Page, PageRequest, SortKey, encode_cursor, paginate
from crm.permissions import Permission
from crm.policy import require

# Fields some callers may not read (the filter vocabulary says which): their
# values are withheld from audit events too.
GUARDED_FIELDS: dict[tuple[str, str], Permission] = {
    ("Interaction", name): spec.permission
    for name, spec in INTERACTION_FIELDS.items()
    if spec.permission is not None
} | {
    # strategicValueSet (crm.insights): a strategic figure and its reason.
    ("Customer", "strategic_value"): Permission.FINANCIALS_READ,
    ("Customer", "strategic_reason"): Permission.FINANCIALS_READ,
}


def readable_changes(
    actor: Actor, entity_type: str, changes: dict[str, Any]
) -> list[tuple[str, Any, Any, bool]]:
    """(field, before, after, withheld) for each change, values hidden where the
    actor may not read the field."""
    shown = []
    for name, value in (changes or {}).items():
        guard = GUARDED_FIELDS.get((entity_type, name))
        if guard is not None and not actor.can(guard):
            shown.append((name, None, None, True))
        else:
            shown.append((name, value.get("before"), value.get("after"), False))
    return shown


async def trail(
    session: AsyncSession,
    actor: Actor,
    *,
    entity_type: str,
    entity_id: int,
    page: PageRequest,
) -> Page[AuditEvent]:
    """Events of one entity, newest first."""
    require(actor, Permission.AUDIT_READ)
    stmt = select(AuditEvent).where(
        col(AuditEvent.entity_type) == entity_type,
        col(AuditEvent.entity_id) == entity_id,
    )
    keys = [SortKey(AuditEvent.id, "int", descending=True)]  # type: ignore[arg-type]
    return await paginate(session, stmt, keys, page)


EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]


def _first_rows() -> Select[Any]:
    """The first `size` + 1 events (newest first) of each of many entities."""
    position = (
        func.row_number()
        .over(partition_by=EVENTS.c.entity_id, order_by=EVENTS.c.id.desc())
        .label("position")
    )
    ranked = (
        select(EVENTS, position)
        .where(
            EVENTS.c.entity_type == bindparam("entity_type"),
            EVENTS.c.entity_id.in_(bindparam("entity_ids", expanding=True)),
        )
        .subquery("ranked")
    )
    return (
        select(*(ranked.c[c.name] for c in EVENTS.columns))
        .where(ranked.c.position <= bindparam("limit"))
        .order_by(ranked.c.entity_id, ranked.c.position)
    )


def _counts() -> Select[Any]:
    return (
        select(EVENTS.c.entity_id, func.count())
        .where(
            EVENTS.c.entity_type == bindparam("entity_type"),
            EVENTS.c.entity_id.in_(bindparam("entity_ids", expanding=True)),
        )
        .group_by(EVENTS.c.entity_id)
    )


FIRST_ROWS = _first_rows()
COUNTS = _counts()


async def first_pages(
    session: AsyncSession,
    actor: Actor,
    *,
    entity_type: str,
    entity_ids: Sequence[int],
    size: int,
) -> dict[int, Page[Any]]:
    """The first page of the trails of many entities, in one statement: the same
    events, order and cursors as `trail`, as rows (the columns of audit_event)."""
    require(actor, Permission.AUDIT_READ)
    wanted = sorted(set(entity_ids))
    grouped: dict[int, list[Any]] = {i: [] for i in wanted}
    if wanted:
        params = {"entity_type": entity_type, "entity_ids": wanted, "limit": size + 1}
        for row in await session.execute(FIRST_ROWS, params):
            grouped[row.entity_id].append(row)
    return {
        entity_id: Page(
            rows[:size],
            [encode_cursor([row.id]) for row in rows[:size]],
            has_next_page=len(rows) > size,
            has_previous_page=False,
        )
        for entity_id, rows in grouped.items()
    }


async def counts(
    session: AsyncSession,
    actor: Actor,
    *,
    entity_type: str,
    entity_ids: Sequence[int],
) -> dict[int, int]:
    """How many events the trail of each of many entities holds, in one GROUP BY."""
    require(actor, Permission.AUDIT_READ)
    wanted = sorted(set(entity_ids))
    found: dict[int, int] = {}
    if wanted:
        params = {"entity_type": entity_type, "entity_ids": wanted}
        found = {i: n for i, n in await session.execute(COUNTS, params)}
    return {i: int(found.get(i, 0)) for i in wanted}

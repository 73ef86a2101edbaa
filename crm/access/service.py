"""The access log of a customer: who at the firm read or changed the record, when.

Views come from `access_view` (crm.access.recorder), changes from the audit
trail of the customer record. Only the firm's readers appear: staff (role and
display name), partner apps (their name) and the system (the job's name); the
customer's own actions are theirs to know already. Never an email address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, String, cast, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.access.models import AccessView
from crm.actors import Actor
from crm.audit.models import AuditEvent
from crm.customers import repository as customer_repository
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.errors import NotFound
from crm.me import service as me_service
from crm.pagination import Page, PageRequest, SortKey, encode_cursor, paginate
from crm.permissions import Permission
from crm.policy import require
from crm.staff.models import StaffMember

FIRM_ACTOR_KINDS = ("staff", "partner", "system")


class AccessKind(StrEnum):
    VIEWED = "viewed"
    CHANGED = "changed"


class AccessorKind(StrEnum):
    STAFF = "staff"
    PARTNER = "partner"
    SYSTEM = "system"


@dataclass(frozen=True)
class AccessEntry:
    """One line of the log: a change, or one reader's views of one day."""

    key: str
    kind: AccessKind
    occurred_at: datetime
    actor_kind: AccessorKind
    actor_name: str
    actor_role: str | None
    # VIEWED: how many reads that day, the first of them.
    views: int | None = None
    first_viewed_at: datetime | None = None
    # CHANGED: what was done (customer.updated, customer.archived...).
    action: str | None = None


@dataclass
class AccessLog:
    page: Page[AccessEntry]
    count_statement: Select[Any]


def _entries(customer_ids: Any) -> Any:
    """Every log line of these customers (a list, or a subquery of their IDs)."""
    views: Any = select(
        (literal("v") + cast(AccessView.id, String)).label("ref"),
        col(AccessView.last_seen_at).label("at"),
        col(AccessView.customer_id).label("customer_id"),
    ).where(col(AccessView.customer_id).in_(customer_ids))
    changes: Any = select(
        (literal("a") + cast(AuditEvent.id, String)).label("ref"),
        col(AuditEvent.occurred_at).label("at"),
        col(AuditEvent.entity_id).label("customer_id"),
    ).where(
        col(AuditEvent.entity_type) == "Customer",
        col(AuditEvent.entity_id).in_(customer_ids),
        col(AuditEvent.actor_kind).in_(FIRM_ACTOR_KINDS),
    )
    return union_all(views, changes).subquery("access_entry")


def _order(entries: Any) -> list[SortKey]:
    return [
        SortKey(entries.c.at, "datetime", descending=True),
        SortKey(entries.c.ref, "str", descending=True),
    ]


async def access_log(
    session: AsyncSession, customer_id: int, page: PageRequest
) -> AccessLog:
    """The log of one customer, newest first (callers check who may read it)."""
    entries = _entries([customer_id])
    stmt = select(entries.c.ref)
    refs = await paginate(session, stmt, _order(entries), page)
    items = await _details(session, refs.items)
    return AccessLog(
        page=Page(
            [items[ref] for ref in refs.items],
            refs.cursors,
            refs.has_next_page,
            refs.has_previous_page,
        ),
        count_statement=stmt,
    )


def _visible(actor: Actor) -> Select[Any]:
    """The IDs of the customers whose logs `actor` may read."""
    require(actor, Permission.AUDIT_READ)
    return customer_repository.customers(actor).with_only_columns(col(Customer.id))


async def first_pages_by_customer(
    session: AsyncSession, actor: Actor, customer_ids: Sequence[int], *, size: int
) -> dict[int, Page[AccessEntry] | NotFound]:
    """The first page of many customers' logs, as `customer_access_log` pages each
    (same order and cursors), in a fixed number of statements; a customer `actor`
    may not see is NOT_FOUND, as there."""
    wanted = list(set(customer_ids))
    visible = set(
        await session.scalars(_visible(actor).where(col(Customer.id).in_(wanted)))
    )
    grouped: dict[int, list[tuple[str, datetime]]] = {i: [] for i in visible}
    if visible:
        for customer_id, ref, at in await _first_refs(session, list(visible), size):
            grouped[customer_id].append((ref, at))
    shown = [ref for lines in grouped.values() for ref, _ in lines[:size]]
    items = await _details(session, shown)
    pages: dict[int, Page[AccessEntry] | NotFound] = {}
    for customer_id in customer_ids:
        if customer_id not in visible:
            pages[customer_id] = NotFound("No customer with that ID.", field="id")
            continue
        lines = grouped[customer_id]
        pages[customer_id] = Page(
            [items[ref] for ref, _ in lines[:size]],
            [encode_cursor([at, ref]) for ref, at in lines[:size]],
            has_next_page=len(lines) > size,
            has_previous_page=False,
        )
    return pages


async def _first_refs(
    session: AsyncSession, customer_ids: list[int], size: int
) -> list[Any]:
    """(customer ID, ref, at) of the first `size` + 1 lines of each log."""
    entries = _entries(customer_ids)
    keys = _order(entries)
    position = (
        func.row_number()
        .over(
            partition_by=entries.c.customer_id,
            order_by=[k.column.desc() for k in keys],
        )
        .label("position")
    )
    ranked = select(
        entries.c.customer_id, entries.c.ref, entries.c.at, position
    ).subquery()
    result = await session.execute(
        select(ranked.c.customer_id, ranked.c.ref, ranked.c.at)
        .where(ranked.c.position <= size + 1)
        .order_by(ranked.c.customer_id, ranked.c.position)
    )
    return list(result.all())


async def counts_by_customer(
    session: AsyncSession, actor: Actor, customer_ids: Sequence[int]
) -> dict[int, int]:
    """How many lines each of many customers' logs holds, in one GROUP BY (a
    customer `actor` may not see counts none)."""
    visible = _visible(actor).where(col(Customer.id).in_(list(set(customer_ids))))
    entries = _entries(visible)
    rows = await session.execute(
        select(entries.c.customer_id, func.count()).group_by(entries.c.customer_id)
    )
    found = {int(cid): int(n) for cid, n in rows}
    return {cid: found.get(cid, 0) for cid in customer_ids}


async def _details(session: AsyncSession, refs: list[str]) -> dict[str, AccessEntry]:
    view_ids = [int(r[1:]) for r in refs if r[0] == "v"]
    audit_ids = [int(r[1:]) for r in refs if r[0] == "a"]
    found: dict[str, AccessEntry] = {}
    if view_ids:
        for view in await session.scalars(
            select(AccessView).where(col(AccessView.id).in_(view_ids))
        ):
            found[f"v{view.id}"] = AccessEntry(
                key=f"v{view.id}",
                kind=AccessKind.VIEWED,
                occurred_at=view.last_seen_at,
                actor_kind=AccessorKind(view.actor_kind),
                actor_name=view.actor_label,
                actor_role=view.actor_role,
                views=view.views,
                first_viewed_at=view.first_seen_at,
            )
    if audit_ids:
        events = list(
            await session.scalars(
                select(AuditEvent).where(col(AuditEvent.id).in_(audit_ids))
            )
        )
        roles = await _staff_roles(session, [e.actor_ref for e in events])
        for event in events:
            found[f"a{event.id}"] = AccessEntry(
                key=f"a{event.id}",
                kind=AccessKind.CHANGED,
                occurred_at=event.occurred_at,
                actor_kind=AccessorKind(event.actor_kind),
                actor_name=event.actor_label,
                actor_role=roles.get(event.actor_ref),
                action=event.action,
            )
    return found


async def _staff_roles(session: AsyncSession, refs: list[str]) -> dict[str, str]:
    """The roles of the staff members among these actor references."""
    ids = {int(r.split(":", 1)[1]) for r in refs if r.startswith("staff:")}
    if not ids:
        return {}
    rows = await session.execute(
        select(col(StaffMember.id), col(StaffMember.role)).where(
            col(StaffMember.id).in_(ids)
        )
    )
    return {f"staff:{staff_id}": role for staff_id, role in rows}


async def my_access_log(
    session: AsyncSession, actor: Actor, *, page: PageRequest
) -> AccessLog:
    """The signed-in customer's own access log."""
    customer = await me_service.my_profile(session, actor)
    assert customer.id is not None
    return await access_log(session, customer.id, page)


async def customer_access_log(
    session: AsyncSession, actor: Actor, customer_id: int, *, page: PageRequest
) -> AccessLog:
    """A customer's access log, for staff who may read audit trails."""
    require(actor, Permission.AUDIT_READ)
    await customer_service.get_customer(session, actor, customer_id)
    return await access_log(session, customer_id, page)

"""The access log of a customer: who at the firm read or changed the record, when.

Views come from `access_view` (crm.access.recorder), changes from the audit
trail of the customer record. Only the firm's readers appear: staff (role and
display name), partner apps (their name) and the system (the job's name); the
customer's own actions are theirs to know already. Never an email address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, String, cast, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.access.models import AccessView
from crm.actors import Actor
from crm.audit.models import AuditEvent
from crm.customers import service as customer_service
from crm.me import service as me_service
from crm.pagination import Page, PageRequest, SortKey, paginate
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


def _entries(customer_id: int) -> Any:
    views: Any = select(
        (literal("v") + cast(AccessView.id, String)).label("ref"),
        col(AccessView.last_seen_at).label("at"),
    ).where(col(AccessView.customer_id) == customer_id)
    changes: Any = select(
        (literal("a") + cast(AuditEvent.id, String)).label("ref"),
        col(AuditEvent.occurred_at).label("at"),
    ).where(
        col(AuditEvent.entity_type) == "Customer",
        col(AuditEvent.entity_id) == customer_id,
        col(AuditEvent.actor_kind).in_(FIRM_ACTOR_KINDS),
    )
    return union_all(views, changes).subquery("access_entry")


async def access_log(
    session: AsyncSession, customer_id: int, page: PageRequest
) -> AccessLog:
    """The log of one customer, newest first (callers check who may read it)."""
    entries = _entries(customer_id)
    stmt = select(entries.c.ref)
    keys = [
        SortKey(entries.c.at, "datetime", descending=True),
        SortKey(entries.c.ref, "str", descending=True),
    ]
    refs = await paginate(session, stmt, keys, page)
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

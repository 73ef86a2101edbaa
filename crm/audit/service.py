"""Reading the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.audit.models import AuditEvent
from crm.interactions.filters import INTERACTION_FIELDS
from crm.pagination import Page, PageRequest, SortKey, paginate
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
) -> tuple[Page[AuditEvent], Select[Any]]:
    """Events of one entity, newest first."""
    require(actor, Permission.AUDIT_READ)
    stmt = select(AuditEvent).where(
        col(AuditEvent.entity_type) == entity_type,
        col(AuditEvent.entity_id) == entity_id,
    )
    keys = [SortKey(AuditEvent.id, "int", descending=True)]  # type: ignore[arg-type]
    return await paginate(session, stmt, keys, page), stmt

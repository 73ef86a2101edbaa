"""Reading the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.actors import Actor
from crm.audit.models import AuditEvent
from crm.pagination import Page, PageRequest, SortKey, paginate
from crm.permissions import Permission
from crm.policy import require


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
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id
    )
    keys = [SortKey(AuditEvent.id, "int", descending=True)]  # type: ignore[arg-type]
    return await paginate(session, stmt, keys, page), stmt

"""Domain events: a write leaves an audit row and an outbox row in its transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.actors import Actor
from crm.audit.models import AuditEvent, OutboxEvent
from crm.columns import utcnow


def jsonable(value: Any) -> Any:
    """A value as it is kept in JSON: times in ISO 8601, money as a string."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value changed, as {field: {"before": x, "after": y}}."""
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(key)), jsonable(after.get(key))
        if old != new:
            changes[key] = {"before": old, "after": new}
    return changes


async def record(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: int,
    changes: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write the audit event and the outbox event of one change."""
    await record_many(
        session,
        actor,
        [
            {
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "changes": changes,
                "payload": payload,
            }
        ],
    )


async def record_many(
    session: AsyncSession, actor: Actor, events: list[dict[str, Any]]
) -> None:
    """Bulk form of `record` for set-based writes (import, upsert, merge)."""
    if not events:
        return
    now = utcnow()
    await session.execute(
        insert(AuditEvent),
        [
            {
                "occurred_at": now,
                "actor_kind": actor.kind,
                "actor_ref": actor.ref,
                "actor_label": actor.label,
                "action": e["action"],
                "entity_type": e["entity_type"],
                "entity_id": e["entity_id"],
                "changes": e.get("changes") or {},
            }
            for e in events
        ],
    )
    await session.execute(
        insert(OutboxEvent),
        [
            {
                "occurred_at": now,
                "topic": e["action"],
                "payload": {
                    "entity": e["entity_type"],
                    "id": e["entity_id"],
                    "actor": actor.ref,
                    **jsonable(e.get("payload") or {}),
                },
            }
            for e in events
        ],
    )

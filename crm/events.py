"""Domain events: a write leaves an audit row and an outbox row in its transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import CTE, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB
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


AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxEvent.__table__  # type: ignore[attr-defined]
# The audit columns a change sets (its entity_id comes with the row).
_AUDITED = (
    "occurred_at",
    "actor_kind",
    "actor_ref",
    "actor_label",
    "action",
    "entity_type",
    "changes",
)


def _audit_row(
    actor: Actor, now: datetime, event: dict[str, Any], entity_id: Any
) -> dict[str, Any]:
    return {
        "occurred_at": now,
        "actor_kind": actor.kind,
        "actor_ref": actor.ref,
        "actor_label": actor.label,
        "action": event["action"],
        "entity_type": event["entity_type"],
        "entity_id": entity_id,
        "changes": event.get("changes") or {},
    }


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
    audits = [_audit_row(actor, now, e, e["entity_id"]) for e in events]
    outboxes = [
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
    ]
    if len(events) == 1 and (await session.connection()).dialect.name == "postgresql":
        # One change, one round trip: both rows in one statement.
        params = {f"audit_{name}": value for name, value in audits[0].items()}
        params.update({f"outbox_{name}": value for name, value in outboxes[0].items()})
        await session.execute(_pair_statement(), params)
        return
    await session.execute(insert(AUDIT), audits)
    await session.execute(insert(OUTBOX), outboxes)


@lru_cache(maxsize=1)
def _pair_statement() -> Any:
    """PostgreSQL: the audit row and the outbox row of one change, one statement."""
    audit = (
        insert(AUDIT)
        .values(
            {
                name: bindparam(f"audit_{name}", type_=AUDIT.c[name].type)
                for name in (*_AUDITED, "entity_id")
            }
        )
        .cte("audit_row")
    )
    return (
        insert(OUTBOX)
        .values(
            {
                name: bindparam(f"outbox_{name}", type_=OUTBOX.c[name].type)
                for name in ("occurred_at", "topic", "payload")
            }
        )
        .add_cte(audit)
    )


def following(row: CTE) -> list[CTE]:
    """PostgreSQL: the audit and outbox events of the row that `row` (an INSERT ..
    RETURNING id, as a CTE) writes, as two more CTEs of its statement: the row and
    its events in one round trip, and no events when it writes no row. Their
    parameters come from `following_params`; the CTEs hold none, so a statement
    built with them once serves every request."""
    audit_values = select(
        *(bindparam(f"event_{name}", type_=AUDIT.c[name].type) for name in _AUDITED),
        row.c.id,
    ).select_from(row)
    # {"entity", "id", "actor", **payload} as `record_many` writes it: the id
    # first, so that the payload's own keys win as they do there.
    payload = func.jsonb_build_object("id", row.c.id).op("||")(
        bindparam("event_payload", type_=JSONB)
    )
    outbox_values = select(
        bindparam("event_occurred_at", type_=OUTBOX.c.occurred_at.type),
        bindparam("event_action", type_=OUTBOX.c.topic.type),
        payload,
    ).select_from(row)
    return [
        insert(AUDIT)
        .from_select([*_AUDITED, "entity_id"], audit_values)
        .cte("audit_row"),
        insert(OUTBOX)
        .from_select(["occurred_at", "topic", "payload"], outbox_values)
        .cte("outbox_row"),
    ]


def following_params(
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    changes: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters of the CTEs of `following`, for one change."""
    event = {"action": action, "entity_type": entity_type, "changes": changes}
    audit = _audit_row(actor, utcnow(), event, None)
    params = {f"event_{name}": audit[name] for name in _AUDITED}
    params["event_payload"] = {
        "entity": entity_type,
        "actor": actor.ref,
        **jsonable(payload or {}),
    }
    return params

"""Insight use cases for staff: measures, history, defections, strategic value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm import events
from crm.actors import Actor
from crm.columns import utcnow
from crm.customers.models import Customer
from crm.customers.policies import customer_scope
from crm.errors import BadInput, Forbidden, NotFound
from crm.insights.kinds import FINANCIAL_KINDS, HISTORY_KINDS, ChurnRisk, InsightKind
from crm.insights.models import (
    CustomerInsight,
    InsightModelFit,
    InsightSnapshot,
    StrategicValueOverride,
)
from crm.pagination import Page, PageRequest, SortKey, paginate
from crm.permissions import Permission
from crm.policy import require
from crm.validation import Errors, clean_text


@dataclass
class InsightRow:
    """A customer's current measures and, when staff set it, the strategic override."""

    insight: CustomerInsight
    override: StrategicValueOverride | None


def can_read(actor: Actor) -> bool:
    return actor.authenticated and actor.can(Permission.INSIGHTS_READ)


async def insights_by_customer(
    session: AsyncSession, actor: Actor, customer_ids: Sequence[int]
) -> dict[int, InsightRow]:
    """The current insights of many customers in one statement."""
    require(actor, Permission.INSIGHTS_READ)
    wanted = list(set(customer_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(CustomerInsight, StrategicValueOverride)
        .outerjoin(
            StrategicValueOverride,
            col(StrategicValueOverride.customer_id) == col(CustomerInsight.customer_id),
        )
        .where(col(CustomerInsight.customer_id).in_(wanted))
    )
    return {
        insight.customer_id: InsightRow(insight, override) for insight, override in rows
    }


async def latest_fit(session: AsyncSession) -> InsightModelFit | None:
    return await session.scalar(
        select(InsightModelFit).order_by(col(InsightModelFit.id).desc()).limit(1)
    )


def require_kind(actor: Actor, kind: InsightKind, *, field: str = "kind") -> None:
    """Reading a kind needs INSIGHTS_READ, and FINANCIALS_READ for financial ones."""
    require(actor, Permission.INSIGHTS_READ)
    if kind in FINANCIAL_KINDS and not actor.can(Permission.FINANCIALS_READ):
        raise Forbidden(
            f"{kind.name} is a financial or strategic measure (needs "
            f"{Permission.FINANCIALS_READ.value}).",
            field=field,
        )


@dataclass
class SnapshotList:
    page: Page[InsightSnapshot]
    count_statement: Select[Any]


def _visible_customer(actor: Actor, customer_id: Any) -> Any:
    return customer_id.in_(select(col(Customer.id)).where(customer_scope(actor)))


async def history(
    session: AsyncSession,
    actor: Actor,
    customer_id: int,
    kind: InsightKind,
    *,
    page: PageRequest,
) -> SnapshotList:
    """How one kind of measure moved for a customer, newest snapshot first."""
    require_kind(actor, kind)
    if kind not in HISTORY_KINDS:
        raise BadInput(
            f"{kind.name} has no history: it is computed on read.", field="kind"
        )
    stmt = select(InsightSnapshot).where(
        col(InsightSnapshot.customer_id) == customer_id,
        _visible_customer(actor, col(InsightSnapshot.customer_id)),
    )
    keys = [
        SortKey(col(InsightSnapshot.taken_at), "datetime", True),  # type: ignore[arg-type]
        SortKey(col(InsightSnapshot.id), "int", True),  # type: ignore[arg-type]
    ]
    return SnapshotList(await paginate(session, stmt, keys, page), stmt)


async def defections(
    session: AsyncSession,
    actor: Actor,
    *,
    since: datetime,
    until: datetime | None,
    page: PageRequest,
) -> SnapshotList:
    """Snapshots where a customer's churn risk crossed into HIGH in [since, until).

    A crossing is a snapshot at HIGH whose previous snapshot of the same customer
    was below HIGH; newest first.
    """
    require(actor, Permission.INSIGHTS_READ)
    if since.tzinfo is None or (until is not None and until.tzinfo is None):
        raise BadInput("since and until need a UTC offset.", field="since")
    if until is not None and until <= since:
        raise BadInput("until must come after since.", field="until")
    current = InsightSnapshot
    before = aliased(InsightSnapshot)
    previous_band = (
        select(col(before.churn_band))
        .where(
            col(before.customer_id) == col(current.customer_id),
            or_(
                col(before.taken_at) < col(current.taken_at),
                and_(
                    col(before.taken_at) == col(current.taken_at),
                    col(before.id) < col(current.id),
                ),
            ),
        )
        .order_by(col(before.taken_at).desc(), col(before.id).desc())
        .limit(1)
        .correlate(current)
        .scalar_subquery()
    )
    stmt = select(current).where(
        col(current.churn_band) == ChurnRisk.HIGH.value,
        col(current.taken_at) >= since,
        func.coalesce(previous_band, ChurnRisk.HIGH.value) != ChurnRisk.HIGH.value,
        _visible_customer(actor, col(current.customer_id)),
    )
    if until is not None:
        stmt = stmt.where(col(current.taken_at) < until)
    keys = [
        SortKey(col(current.taken_at), "datetime", True),  # type: ignore[arg-type]
        SortKey(col(current.id), "int", True),  # type: ignore[arg-type]
    ]
    return SnapshotList(await paginate(session, stmt, keys, page), stmt)


# --- strategic value --------------------------------------------------------------


async def set_strategic_value(
    session: AsyncSession,
    actor: Actor,
    customer_id: int,
    *,
    value: int | None,
    reason: Any,
) -> Customer:
    """Set (1-5, with a reason) or clear (None) a customer's strategic value; audited.

    The customer's current insight row follows at once; a refresh keeps it.
    """
    require(actor, Permission.STRATEGIC_VALUE_WRITE)
    customer = await session.scalar(
        select(Customer).where(col(Customer.id) == customer_id, customer_scope(actor))
    )
    if customer is None:
        raise NotFound("No customer with that ID.", field="customer_id")
    errors = Errors()
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5
    ):
        errors.add("value", "OUT_OF_RANGE", "A strategic value is a whole number 1-5.")
    text = clean_text(
        errors, "reason", reason, max_length=500, required=value is not None
    )
    errors.raise_if_any()
    existing = await session.get(
        StrategicValueOverride, customer_id, with_for_update=True
    )
    before = {"value": existing.value, "reason": existing.reason} if existing else {}
    if value is None:
        if existing is None:
            return customer
        await session.delete(existing)
        after: dict[str, Any] = {}
    else:
        assert text is not None
        if existing is None:
            existing = StrategicValueOverride(
                customer_id=customer_id, value=value, reason=text, set_by=actor.ref
            )
            session.add(existing)
        else:
            existing.value, existing.reason = value, text
            existing.set_by, existing.set_at = actor.ref, utcnow()
        after = {"value": value, "reason": text}
    changes = events.diff(before, after)
    if not changes:
        return customer
    await session.flush()
    from crm.insights.refresh import apply_strategic_value

    await apply_strategic_value(session, customer_id)
    await events.record(
        session,
        actor,
        action="customer.strategic_value_set",
        entity_type="Customer",
        entity_id=customer_id,
        changes={f"strategic_{k}": v for k, v in changes.items()},
    )
    return customer

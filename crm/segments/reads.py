"""Reading segments: preview, members, history, explanations, satisfaction, and the
segments a customer is in (the firm's view and the customer's own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.columns import utcnow
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.customers.policies import customer_scope
from crm.interactions.models import Interaction, Survey
from crm.me import policies as me_policies
from crm.pagination import (
    Page,
    PageRequest,
    SortKey,
    decode_cursor,
    encode_cursor,
    paginate,
)
from crm.permissions import Permission
from crm.policy import require
from crm.segments import policies
from crm.segments.models import Segment, SegmentMembership
from crm.segments.rules import compile_leaf, compile_rule, leaves, normalize_rule


class HistoryChange(StrEnum):
    ENTERED = "entered"
    LEFT = "left"


@dataclass
class CustomerList:
    page: Page[Customer]
    count_statement: Select[Any]


def _by_id() -> list[SortKey]:
    return [SortKey(Customer.id, "int")]  # type: ignore[arg-type]


async def preview(
    session: AsyncSession,
    actor: Actor,
    rule: Mapping[str, Any],
    *,
    page: PageRequest,
) -> CustomerList:
    """Who a rule selects now, without saving anything."""
    require(actor, Permission.SEGMENTS_READ)
    normalized = normalize_rule(rule, actor)
    stmt = select(Customer).where(
        customer_scope(actor), compile_rule(normalized, actor, utcnow())
    )
    return CustomerList(await paginate(session, stmt, _by_id(), page), stmt)


async def members(
    session: AsyncSession, actor: Actor, segment_id: int, *, page: PageRequest
) -> CustomerList:
    """The segment's current members, by customer ID."""
    policies.can_read_members(actor)
    stmt = (
        select(Customer)
        .join(
            SegmentMembership,
            and_(
                col(SegmentMembership.customer_id) == col(Customer.id),
                col(SegmentMembership.segment_id) == segment_id,
                col(SegmentMembership.left_at).is_(None),
            ),
        )
        .where(customer_scope(actor))
    )
    return CustomerList(await paginate(session, stmt, _by_id(), page), stmt)


@dataclass(frozen=True)
class HistoryEntry:
    """A customer entering or leaving the segment."""

    stint_id: int
    customer_id: int
    change: HistoryChange
    at: datetime


@dataclass
class History:
    page: Page[HistoryEntry]
    count_statement: Select[Any]


def _history_rows(segment_id: int, actor: Actor) -> Any:
    """Entries and leaves of the customers `actor` may see (a partner never learns
    the ID of a customer who withdrew partner sharing)."""
    stint = SegmentMembership
    mine = and_(
        col(stint.segment_id) == segment_id,
        col(Customer.id) == col(stint.customer_id),
        customer_scope(actor),
    )
    entered: Select[Any] = select(  # type: ignore[assignment]
        col(stint.id).label("stint_id"),
        col(stint.customer_id).label("customer_id"),
        col(stint.entered_at).label("at"),
        literal(0, Integer()).label("change"),
    ).where(mine)
    left = select(
        col(stint.id),
        col(stint.customer_id),
        col(stint.left_at),
        literal(1, Integer()),
    ).where(mine, col(stint.left_at).is_not(None))
    return union_all(entered, left).subquery("history")


async def history(
    session: AsyncSession, actor: Actor, segment_id: int, *, page: PageRequest
) -> History:
    """Entries and leaves, newest first (keyset over time, stint, change)."""
    policies.can_read_members(actor)
    rows = _history_rows(segment_id, actor)
    keys = [
        SortKey(rows.c.at, "datetime", True),
        SortKey(rows.c.stint_id, "int", True),
        SortKey(rows.c.change, "int", True),
    ]
    stmt = select(rows.c.at, rows.c.stint_id, rows.c.change, rows.c.customer_id)
    count_statement = stmt
    reverse = page.backwards
    cursor = page.before if reverse else page.after
    if cursor is not None:
        values = decode_cursor(cursor, keys, field="before" if reverse else "after")
        position = tuple_(rows.c.at, rows.c.stint_id, rows.c.change)
        stmt = stmt.where(
            position > tuple_(*values) if reverse else position < tuple_(*values)
        )
    columns = (rows.c.at, rows.c.stint_id, rows.c.change)
    order = [c.asc() if reverse else c.desc() for c in columns]
    found = list(
        (await session.execute(stmt.order_by(*order).limit(page.size + 1))).all()
    )
    more = len(found) > page.size
    found = found[: page.size]
    if reverse:
        found.reverse()
    items = [
        HistoryEntry(
            stint_id=row.stint_id,
            customer_id=row.customer_id,
            change=HistoryChange.LEFT if row.change else HistoryChange.ENTERED,
            at=row.at,
        )
        for row in found
    ]
    cursors = [encode_cursor([row.at, row.stint_id, row.change]) for row in found]
    return History(
        Page(
            items,
            cursors,
            has_next_page=more if not reverse else page.before is not None,
            has_previous_page=more if reverse else page.after is not None,
        ),
        count_statement,
    )


@dataclass(frozen=True)
class ClauseResult:
    path: str
    text: str
    negated: bool
    matched: bool


@dataclass(frozen=True)
class Explanation:
    customer: Customer
    member: bool
    # Whether the rule selects the customer now (None for static segments).
    matches: bool | None
    clauses: list[ClauseResult]


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


async def explain(
    session: AsyncSession, actor: Actor, segment: Segment, customer_id: int
) -> Explanation:
    """Each leaf clause of the rule, matched or not for the customer: one query."""
    policies.can_read_members(actor)
    customer = await customer_service.get_customer(session, actor, customer_id)
    assert segment.id is not None
    current = (
        select(col(SegmentMembership.id))
        .where(
            col(SegmentMembership.segment_id) == segment.id,
            col(SegmentMembership.customer_id) == customer_id,
            col(SegmentMembership.left_at).is_(None),
        )
        .exists()
    )
    now = utcnow()
    parts = list(leaves(segment.rule)) if segment.rule is not None else []
    flags = [_flag(compile_leaf(leaf, actor, now)) for leaf in parts]
    whole = (
        [_flag(compile_rule(segment.rule, actor, now))]
        if segment.rule is not None
        else []
    )
    row = (
        await session.execute(
            select(_flag(current), *whole, *flags).where(
                col(Customer.id) == customer_id
            )
        )
    ).one()
    member = bool(row[0])
    matches = bool(row[1]) if whole else None
    results = row[1 + len(whole) :]
    return Explanation(
        customer=customer,
        member=member,
        matches=matches,
        clauses=[
            ClauseResult(leaf.path, leaf.text, leaf.negated, bool(flag))
            for leaf, flag in zip(parts, results, strict=True)
        ],
    )


@dataclass(frozen=True)
class Satisfaction:
    """NPS over members' 0-10 ratings and CSAT over their 1-5 ones, in a window."""

    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None  # -100..100, None without responses
    csat_responses: int
    csat: float | None  # % of CSAT ratings that are 4 or 5, None without any
    since: datetime


async def satisfaction(
    session: AsyncSession, actor: Actor, segment_id: int, *, within_days: int
) -> Satisfaction:
    """Ratings answering a CSAT survey count for CSAT; the others (NPS, or no
    survey named) are 0-10 answers and count for NPS."""
    policies.can_read_members(actor)
    require(actor, Permission.INTERACTIONS_READ)
    since = utcnow() - timedelta(days=within_days)
    rating = col(Interaction.rating)
    is_csat = func.coalesce(col(Interaction.survey) == Survey.CSAT.value, False)
    nps = and_(~is_csat, rating.between(0, 10))
    csat = and_(is_csat, rating.between(1, 5))
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(_flag(nps)), 0),
                func.coalesce(func.sum(_flag(and_(nps, rating >= 9))), 0),
                func.coalesce(func.sum(_flag(and_(nps, rating <= 6))), 0),
                func.coalesce(func.sum(_flag(csat)), 0),
                func.coalesce(func.sum(_flag(and_(csat, rating >= 4))), 0),
            )
            .select_from(Interaction)
            .join(
                SegmentMembership,
                and_(
                    col(SegmentMembership.customer_id) == col(Interaction.customer_id),
                    col(SegmentMembership.segment_id) == segment_id,
                    col(SegmentMembership.left_at).is_(None),
                ),
            )
            .join(Customer, col(Customer.id) == col(Interaction.customer_id))
            .where(
                customer_scope(actor),
                rating.is_not(None),
                col(Interaction.occurred_at) >= since,
            )
        )
    ).one()
    responses, promoters, detractors, csat_responses, satisfied = (int(v) for v in row)
    return Satisfaction(
        responses=responses,
        promoters=promoters,
        passives=responses - promoters - detractors,
        detractors=detractors,
        nps=_percent(promoters - detractors, responses),
        csat_responses=csat_responses,
        csat=_percent(satisfied, csat_responses),
        since=since,
    )


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


async def segments_of_customers(
    session: AsyncSession, actor: Actor, customer_ids: Sequence[int]
) -> dict[int, list[tuple[Segment, datetime]]]:
    """The segments each customer is in now, with when they joined (one query)."""
    require(actor, Permission.SEGMENTS_READ)
    stmt = (
        select(
            col(SegmentMembership.customer_id),
            Segment,
            col(SegmentMembership.entered_at),
        )
        .join(Segment, col(Segment.id) == col(SegmentMembership.segment_id))
        .where(
            policies.segment_scope(actor),
            col(SegmentMembership.customer_id).in_(sorted(set(customer_ids))),
            col(SegmentMembership.left_at).is_(None),
        )
        .order_by(col(Segment.name), col(Segment.id))
    )
    found: dict[int, list[tuple[Segment, datetime]]] = {i: [] for i in customer_ids}
    for customer_id, segment, entered_at in await session.execute(stmt):
        found[customer_id].append((segment, entered_at))
    return found


async def my_segments(
    session: AsyncSession, actor: Actor
) -> list[tuple[Segment, datetime]]:
    """The customer-visible segments the signed-in customer is in, oldest first."""
    stmt = (
        select(Segment, col(SegmentMembership.entered_at))
        .join(SegmentMembership, col(SegmentMembership.segment_id) == col(Segment.id))
        .join(Customer, col(Customer.id) == col(SegmentMembership.customer_id))
        .where(policies.own_membership_scope(actor), me_policies.profile_scope(actor))
        .order_by(col(SegmentMembership.entered_at), col(Segment.id))
    )
    return [(segment, at) for segment, at in await session.execute(stmt)]

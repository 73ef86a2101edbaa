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
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Bundle, aliased
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
    stmt, keys = member_list(actor, segment_id)
    return CustomerList(await paginate(session, stmt, keys, page), stmt)


def member_list(actor: Actor, segment_id: Any) -> tuple[Select[Any], list[SortKey]]:
    """The current members of a segment (its ID or ID column), unpaged, and the
    keys that order them (by customer ID): for the resolvers and the planner."""
    policies.can_read_members(actor)
    stmt = _members_of(actor, col(SegmentMembership.segment_id) == segment_id)
    return stmt, _by_id()


def _members_of(actor: Actor, segments: ColumnElement[bool]) -> Select[Any]:
    """Current members of the segments selected by `segments`, as `actor` may see
    them (a partner never sees a customer who withdrew partner sharing)."""
    return (
        select(Customer)
        .join(
            SegmentMembership,
            and_(
                col(SegmentMembership.customer_id) == col(Customer.id),
                segments,
                col(SegmentMembership.left_at).is_(None),
            ),
        )
        .where(customer_scope(actor))
    )


async def first_member_pages(
    session: AsyncSession, actor: Actor, segment_ids: Sequence[int], *, size: int
) -> dict[int, Page[Customer]]:
    """The first page of members (by customer ID) of many segments: one statement;
    items and cursors are those `members` gives for a first page."""
    policies.can_read_members(actor)
    segment_id = col(SegmentMembership.segment_id)
    position = (
        func.row_number()
        .over(partition_by=segment_id, order_by=col(Customer.id).asc())
        .label("position")
    )
    inner = (
        _members_of(actor, segment_id.in_(sorted(set(segment_ids))))
        .add_columns(segment_id.label("member_of"), position)
        .subquery()
    )
    row = aliased(Customer, inner)
    stmt = (
        select(row, inner.c.member_of)
        .where(inner.c.position <= size + 1)
        .order_by(inner.c.member_of, inner.c.position)
    )
    grouped: dict[int, list[Customer]] = {i: [] for i in segment_ids}
    for customer, member_of in await session.execute(stmt):
        grouped[member_of].append(customer)
    pages: dict[int, Page[Customer]] = {}
    for key, items in grouped.items():
        more = len(items) > size
        items = items[:size]
        cursors = [encode_cursor([c.id]) for c in items]
        pages[key] = Page(items, cursors, has_next_page=more, has_previous_page=False)
    return pages


async def member_counts(
    session: AsyncSession, actor: Actor, segment_ids: Sequence[int]
) -> dict[int, int]:
    """How many current members `actor` may see, per segment: one GROUP BY."""
    policies.can_read_members(actor)
    segment_id = col(SegmentMembership.segment_id)
    inner = (
        _members_of(actor, segment_id.in_(sorted(set(segment_ids))))
        .with_only_columns(segment_id.label("member_of"))
        .subquery()
    )
    stmt = select(inner.c.member_of, func.count()).group_by(inner.c.member_of)
    found = {key: 0 for key in segment_ids}
    for key, total in await session.execute(stmt):
        found[key] = int(total)
    return found


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


def _history_rows(segments: ColumnElement[bool], actor: Actor) -> Any:
    """Entries and leaves of the customers `actor` may see (a partner never learns
    the ID of a customer who withdrew partner sharing), in the selected segments."""
    stint = SegmentMembership
    mine = and_(
        segments,
        col(Customer.id) == col(stint.customer_id),
        customer_scope(actor),
    )
    entered: Select[Any] = select(  # type: ignore[assignment]
        col(stint.id).label("stint_id"),
        col(stint.customer_id).label("customer_id"),
        col(stint.entered_at).label("at"),
        literal(0, Integer()).label("change"),
        col(stint.segment_id).label("segment_id"),
    ).where(mine)
    left = select(
        col(stint.id),
        col(stint.customer_id),
        col(stint.left_at),
        literal(1, Integer()),
        col(stint.segment_id),
    ).where(mine, col(stint.left_at).is_not(None))
    return union_all(entered, left).subquery("history")


def _history_entry(row: Any) -> HistoryEntry:
    return HistoryEntry(
        stint_id=row.stint_id,
        customer_id=row.customer_id,
        change=HistoryChange.LEFT if row.change else HistoryChange.ENTERED,
        at=row.at,
    )


def _history_cursor(row: Any) -> str:
    return encode_cursor([row.at, row.stint_id, row.change])


async def first_history_pages(
    session: AsyncSession, actor: Actor, segment_ids: Sequence[int], *, size: int
) -> dict[int, Page[HistoryEntry]]:
    """The first page of history (newest first) of many segments: one statement;
    items and cursors are those `history` gives for a first page."""
    policies.can_read_members(actor)
    rows = _history_rows(
        col(SegmentMembership.segment_id).in_(sorted(set(segment_ids))), actor
    )
    position = (
        func.row_number()
        .over(
            partition_by=rows.c.segment_id,
            order_by=[rows.c.at.desc(), rows.c.stint_id.desc(), rows.c.change.desc()],
        )
        .label("position")
    )
    inner = select(rows, position).subquery()
    stmt = (
        select(inner)
        .where(inner.c.position <= size + 1)
        .order_by(inner.c.segment_id, inner.c.position)
    )
    grouped: dict[int, list[Any]] = {i: [] for i in segment_ids}
    for row in await session.execute(stmt):
        grouped[row.segment_id].append(row)
    pages: dict[int, Page[HistoryEntry]] = {}
    for key, found in grouped.items():
        more = len(found) > size
        found = found[:size]
        pages[key] = Page(
            [_history_entry(row) for row in found],
            [_history_cursor(row) for row in found],
            has_next_page=more,
            has_previous_page=False,
        )
    return pages


async def history_counts(
    session: AsyncSession, actor: Actor, segment_ids: Sequence[int]
) -> dict[int, int]:
    """How many entries and leaves `actor` may see, per segment: one GROUP BY."""
    policies.can_read_members(actor)
    rows = _history_rows(
        col(SegmentMembership.segment_id).in_(sorted(set(segment_ids))), actor
    )
    stmt = select(rows.c.segment_id, func.count()).group_by(rows.c.segment_id)
    found = {key: 0 for key in segment_ids}
    for key, total in await session.execute(stmt):
        found[key] = int(total)
    return found


async def history(
    session: AsyncSession, actor: Actor, segment_id: int, *, page: PageRequest
) -> History:
    """Entries and leaves, newest first (keyset over time, stint, change)."""
    policies.can_read_members(actor)
    rows = _history_rows(col(SegmentMembership.segment_id) == segment_id, actor)
    keys = [
        SortKey(rows.c.at, "datetime", True),
        SortKey(rows.c.stint_id, "int", True),
        SortKey(rows.c.change, "int", True),
    ]
    entry: Bundle[Any] = Bundle(
        "entry", rows.c.at, rows.c.stint_id, rows.c.change, rows.c.customer_id
    )
    stmt: Select[Any] = select(entry)
    found = await paginate(session, stmt, keys, page)
    return History(
        Page(
            [_history_entry(row) for row in found.items],
            found.cursors,
            has_next_page=found.has_next_page,
            has_previous_page=found.has_previous_page,
        ),
        stmt,
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
    found = await satisfaction_by_segment(
        session, actor, [segment_id], within_days=within_days
    )
    return found[segment_id]


async def satisfaction_by_segment(
    session: AsyncSession,
    actor: Actor,
    segment_ids: Sequence[int],
    *,
    within_days: int,
) -> dict[int, Satisfaction]:
    """`satisfaction` of many segments in one grouped statement."""
    policies.can_read_members(actor)
    require(actor, Permission.INTERACTIONS_READ)
    since = utcnow() - timedelta(days=within_days)
    rating = col(Interaction.rating)
    is_csat = func.coalesce(col(Interaction.survey) == Survey.CSAT.value, False)
    nps = and_(~is_csat, rating.between(0, 10))
    csat = and_(is_csat, rating.between(1, 5))
    segment_id = col(SegmentMembership.segment_id)
    stmt = (
        select(
            segment_id,
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
                segment_id.in_(sorted(set(segment_ids))),
                col(SegmentMembership.left_at).is_(None),
            ),
        )
        .join(Customer, col(Customer.id) == col(Interaction.customer_id))
        .where(
            customer_scope(actor),
            rating.is_not(None),
            col(Interaction.occurred_at) >= since,
        )
        .group_by(segment_id)
    )
    sums = {key: (0, 0, 0, 0, 0) for key in segment_ids}
    for key, *values in await session.execute(stmt):
        sums[key] = tuple(int(v) for v in values)  # type: ignore[assignment]
    found: dict[int, Satisfaction] = {}
    for key, (
        responses,
        promoters,
        detractors,
        csat_responses,
        satisfied,
    ) in sums.items():
        found[key] = Satisfaction(
            responses=responses,
            promoters=promoters,
            passives=responses - promoters - detractors,
            detractors=detractors,
            nps=_percent(promoters - detractors, responses),
            csat_responses=csat_responses,
            csat=_percent(satisfied, csat_responses),
            since=since,
        )
    return found


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

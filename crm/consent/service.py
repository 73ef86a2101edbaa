"""Consent use cases: decide (customer), record (staff), read current state and history.

Every decision appends one `consent_event` row (never updated or deleted) and, in
the same transaction, upserts `consent_state` for its (customer, purpose, channel)
unless a later decision already applies there (a form signed last month, recorded
today, does not override what the customer said online yesterday).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm import events
from crm.actors import Actor, PartnerActor
from crm.columns import utcnow
from crm.consent import policies, rules
from crm.consent.models import (
    ConsentChannel,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
    ConsentState,
)
from crm.customers.models import Customer
from crm.customers.policies import customer_scope
from crm.db import upsert_insert
from crm.errors import FieldError, NotFound, ValidationFailed
from crm.me import policies as me_policies
from crm.pagination import Page, PageRequest, SortKey, encode_cursor, paginate
from crm.validation import Errors, clean_enum, clean_text

MAX_EVIDENCE = 1000
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
# Clocks differ: a decision dated a little ahead of ours is accepted as "now".
CLOCK_SKEW = timedelta(minutes=5)

# Every (purpose, channel) a customer can decide, in a stable order.
CONSENT_SLOTS: tuple[tuple[ConsentPurpose, ConsentChannel], ...] = tuple(
    (purpose, channel)
    for purpose in ConsentPurpose
    for channel in (
        tuple(ConsentChannel) if purpose.per_channel else (ConsentChannel.ANY,)
    )
)


@dataclass(frozen=True)
class ConsentStatus:
    """The consent that applies now to one (purpose, channel) of a customer."""

    purpose: ConsentPurpose
    channel: ConsentChannel
    granted: bool
    # True when no decision applies and `granted` is the purpose's default.
    default: bool
    source: str | None = None
    decided_at: datetime | None = None
    # The channel of the decision that applies (`any` when it covers all channels).
    decided_channel: ConsentChannel | None = None


def effective(
    rows: Iterable[ConsentState],
    slots: Iterable[tuple[ConsentPurpose, ConsentChannel]] = CONSENT_SLOTS,
) -> list[ConsentStatus]:
    """The status of each slot from one customer's state rows (the rule of
    crm.consent.rules, in Python: latest of the channel's and `any`'s decision)."""
    by_key = {(r.purpose, r.channel): r for r in rows}
    statuses = []
    for purpose, channel in slots:
        candidates = [by_key.get((purpose.value, channel.value))]
        if channel is not ConsentChannel.ANY:
            candidates.append(by_key.get((purpose.value, ConsentChannel.ANY.value)))
        decided = [c for c in candidates if c is not None]
        if not decided:
            statuses.append(
                ConsentStatus(purpose, channel, purpose.default_granted, default=True)
            )
            continue
        latest = max(decided, key=lambda r: (r.occurred_at, r.event_id))
        statuses.append(
            ConsentStatus(
                purpose,
                channel,
                latest.granted,
                default=False,
                source=latest.source,
                decided_at=latest.occurred_at,
                decided_channel=ConsentChannel(latest.channel),
            )
        )
    return statuses


@dataclass(frozen=True)
class Decision:
    purpose: ConsentPurpose
    channel: ConsentChannel
    granted: bool


def clean_decision(errors: Errors, data: Mapping[str, Any]) -> Decision | None:
    purpose = clean_enum(
        errors, "purpose", data.get("purpose"), ConsentPurpose, required=True
    )
    channel = clean_enum(
        errors,
        "channel",
        data.get("channel") or ConsentChannel.ANY.value,
        ConsentChannel,
    )
    granted = data.get("granted")
    if not isinstance(granted, bool):
        errors.add("granted", "REQUIRED", "granted must be true or false.")
    if purpose is None or channel is None or not isinstance(granted, bool):
        return None
    decision = Decision(ConsentPurpose(purpose), ConsentChannel(channel), granted)
    if not decision.purpose.per_channel and decision.channel is not ConsentChannel.ANY:
        errors.add(
            "channel",
            "NOT_APPLICABLE",
            f"{purpose} is decided for every channel at once: use channel ANY.",
        )
        return None
    return decision


def _clean_occurred_at(errors: Errors, value: Any, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors.add(
            "occurred_at", "INVALID", "occurredAt needs a date, time and offset."
        )
        return now
    value = value.astimezone(UTC)
    if value > now + CLOCK_SKEW:
        errors.add("occurred_at", "IN_FUTURE", "occurredAt cannot be in the future.")
    elif value < EARLIEST:
        errors.add("occurred_at", "OUT_OF_RANGE", "occurredAt is before 1900.")
    return min(value, now)


def dialect_insert(session: AsyncSession) -> Any:
    """The upserting INSERT of the session's dialect."""
    assert session.bind is not None
    return upsert_insert(session.bind.dialect.name)


async def _granted_now(
    session: AsyncSession, customer_id: int, decision: Decision
) -> bool:
    stmt = select(
        rules.granted(decision.purpose, decision.channel, literal(customer_id))
    )
    return bool(await session.scalar(stmt))


async def append_decision(
    session: AsyncSession,
    actor: Actor,
    customer_id: int,
    decision: Decision,
    *,
    source: ConsentSource,
    evidence: str | None,
    occurred_at: datetime,
) -> ConsentEvent:
    """Append one decision to the ledger and bring the current state up to date."""
    before = await _granted_now(session, customer_id, decision)
    event = ConsentEvent(
        customer_id=customer_id,
        purpose=decision.purpose.value,
        channel=decision.channel.value,
        granted=decision.granted,
        source=source.value,
        evidence=evidence,
        recorded_by=actor.ref,
        occurred_at=occurred_at,
        recorded_at=utcnow(),
    )
    session.add(event)
    await session.flush()
    assert event.id is not None
    insert = dialect_insert(session)
    state = insert(ConsentState).values(
        customer_id=customer_id,
        purpose=event.purpose,
        channel=event.channel,
        granted=event.granted,
        source=event.source,
        event_id=event.id,
        occurred_at=event.occurred_at,
    )
    # Race-safe: concurrent decisions for one slot meet on the unique key, and
    # the later (`occurred_at`, ledger id) wins whatever order they commit in:
    # the order the ledger is read in, so the state always names the ledger row
    # that history shows as the latest.
    state = state.on_conflict_do_update(
        index_elements=["customer_id", "purpose", "channel"],
        set_={
            "granted": state.excluded.granted,
            "source": state.excluded.source,
            "event_id": state.excluded.event_id,
            "occurred_at": state.excluded.occurred_at,
        },
        where=or_(
            col(ConsentState.occurred_at) < state.excluded.occurred_at,
            and_(
                col(ConsentState.occurred_at) == state.excluded.occurred_at,
                col(ConsentState.event_id) < state.excluded.event_id,
            ),
        ),
    )
    await session.execute(state)
    after = await _granted_now(session, customer_id, decision)
    key = f"consent.{decision.purpose.value}.{decision.channel.value}"
    await events.record(
        session,
        actor,
        action="consent.changed",
        entity_type="Customer",
        entity_id=customer_id,
        changes={key: {"before": before, "after": after}} if before != after else {},
        payload={
            "customer_id": customer_id,
            "consent_event_id": event.id,
            "purpose": event.purpose,
            "channel": event.channel,
            "granted": event.granted,
            "source": event.source,
            "occurred_at": event.occurred_at,
            "applies": after == event.granted,
        },
    )
    return event


@dataclass
class DecisionResult:
    """The ledger row written and the consent that applies afterwards."""

    event: ConsentEvent
    status: ConsentStatus


async def _status_after(
    session: AsyncSession, customer_id: int, decision: Decision
) -> ConsentStatus:
    rows = await states_by_customer(session, [customer_id])
    slot = (decision.purpose, decision.channel)
    return effective(rows.get(customer_id, []), [slot])[0]


async def set_my_consent(
    session: AsyncSession, actor: Actor, data: Mapping[str, Any]
) -> DecisionResult:
    """The signed-in customer grants or withdraws a consent; it applies at once."""
    customer_id = await my_active_id(session, actor)
    errors = Errors()
    decision = clean_decision(errors, data)
    errors.raise_if_any()
    assert decision is not None
    event = await append_decision(
        session,
        actor,
        customer_id,
        decision,
        source=ConsentSource.CUSTOMER,
        evidence=None,
        occurred_at=utcnow(),
    )
    return DecisionResult(event, await _status_after(session, customer_id, decision))


async def record_consent(
    session: AsyncSession, actor: Actor, customer_id: int, data: Mapping[str, Any]
) -> DecisionResult:
    """Staff record consent given or withdrawn elsewhere, with its source."""
    policies.can_record(actor)
    customer = await open_customer(session, actor, customer_id)
    now = utcnow()
    errors = Errors()
    decision = clean_decision(errors, data)
    source = clean_enum(
        errors, "source", data.get("source"), ConsentSource, required=True
    )
    if source == ConsentSource.CUSTOMER.value:
        errors.add(
            "source",
            "INVALID",
            "CUSTOMER is kept for the customer's own decisions; name where the "
            "consent was given (WEB_FORM, PAPER_FORM, PHONE_CALL, STAFF...).",
        )
    evidence = clean_text(
        errors, "evidence", data.get("evidence"), max_length=MAX_EVIDENCE
    )
    occurred_at = _clean_occurred_at(errors, data.get("occurred_at"), now)
    errors.raise_if_any()
    assert decision is not None and source is not None and customer.id is not None
    event = await append_decision(
        session,
        actor,
        customer.id,
        decision,
        source=ConsentSource(source),
        evidence=evidence,
        occurred_at=occurred_at,
    )
    return DecisionResult(event, await _status_after(session, customer.id, decision))


async def open_customer(
    session: AsyncSession, actor: Actor, customer_id: int
) -> Customer:
    """A customer the actor sees and may write to (not archived)."""
    customer = await session.scalar(
        select(Customer).where(col(Customer.id) == customer_id, customer_scope(actor))
    )
    if customer is None:
        raise NotFound("No customer with that ID.", field="customer_id")
    if customer.archived_at is not None:
        raise ValidationFailed(
            [FieldError("customer_id", "ARCHIVED", "The customer is archived.")]
        )
    return customer


async def my_active_id(session: AsyncSession, actor: Actor) -> int:
    """The signed-in customer's ID, while their record is active."""
    found = await session.scalar(
        select(col(Customer.id)).where(me_policies.profile_scope(actor))
    )
    if found is None:
        raise NotFound("No customer with that ID.", field="id")
    return int(found)


async def hidden_from(
    session: AsyncSession, actor: Actor, customer_ids: Iterable[int | None]
) -> set[int]:
    """Which of these customers `actor` may not see because of consent: for a
    partner key, those who withdrew partner sharing (writes by key, such as an
    upsert matching by external_ref or email, must not reach them)."""
    wanted = {i for i in customer_ids if i is not None}
    if not wanted or not isinstance(actor, PartnerActor):
        return set()
    rows = await session.scalars(
        select(col(Customer.id)).where(
            col(Customer.id).in_(wanted),
            rules.partner_sharing_withdrawn(col(Customer.id)),
        )
    )
    return {int(i) for i in rows if i is not None}


# --- reads -----------------------------------------------------------------------


async def states_by_customer(
    session: AsyncSession, customer_ids: Sequence[int]
) -> dict[int, list[ConsentState]]:
    """Current decisions of many customers, in one statement (no policy: callers
    check who may read)."""
    wanted = list(set(customer_ids))
    grouped: dict[int, list[ConsentState]] = {cid: [] for cid in wanted}
    if not wanted:
        return grouped
    rows = await session.scalars(
        select(ConsentState).where(col(ConsentState.customer_id).in_(wanted))
    )
    for row in rows:
        grouped[row.customer_id].append(row)
    return grouped


async def consents_of(
    session: AsyncSession, actor: Actor, customer_ids: Sequence[int]
) -> dict[int, list[ConsentStatus]]:
    """Every slot's status for customers the caller already reads (firm view)."""
    policies.can_read(actor)
    states = await states_by_customer(session, customer_ids)
    return {cid: effective(rows) for cid, rows in states.items()}


async def my_consents(session: AsyncSession, actor: Actor) -> list[ConsentStatus]:
    customer_id = await my_active_id(session, actor)
    states = await states_by_customer(session, [customer_id])
    return effective(states[customer_id])


HISTORY_ORDER = [
    SortKey(ConsentEvent.occurred_at, "datetime", True),  # type: ignore[arg-type]
    SortKey(ConsentEvent.id, "int", True),  # type: ignore[arg-type]
]


@dataclass
class HistoryList:
    page: Page[ConsentEvent]
    count_statement: Select[Any]


def history_statement(customer_id: int) -> Select[Any]:
    """Every ledger row of one customer (no policy: callers check who may read)."""
    return select(ConsentEvent).where(col(ConsentEvent.customer_id) == customer_id)


async def history(
    session: AsyncSession, actor: Actor, customer_id: int, *, page: PageRequest
) -> HistoryList:
    """A customer's consent ledger, newest decision first (firm view)."""
    policies.can_read(actor)
    visible = await session.scalar(
        select(col(Customer.id)).where(
            col(Customer.id) == customer_id, customer_scope(actor)
        )
    )
    if visible is None:
        raise NotFound("No customer with that ID.", field="id")
    stmt = history_statement(customer_id)
    return HistoryList(await paginate(session, stmt, HISTORY_ORDER, page), stmt)


async def my_history(
    session: AsyncSession, actor: Actor, *, page: PageRequest
) -> HistoryList:
    """The signed-in customer's own consent ledger, newest first."""
    stmt = history_statement(await my_active_id(session, actor))
    return HistoryList(await paginate(session, stmt, HISTORY_ORDER, page), stmt)


async def history_counts(
    session: AsyncSession, actor: Actor, customer_ids: Sequence[int]
) -> dict[int, int]:
    """How many ledger rows each customer has, in one GROUP BY (firm view)."""
    policies.can_read(actor)
    customer_id = col(ConsentEvent.customer_id)
    rows = await session.execute(
        select(customer_id, func.count())
        .where(customer_id.in_(list(set(customer_ids))))
        .group_by(customer_id)
    )
    found = {int(cid): int(n) for cid, n in rows}
    return {cid: found.get(cid, 0) for cid in customer_ids}


async def first_history_pages(
    session: AsyncSession, actor: Actor, customer_ids: Sequence[int], *, size: int
) -> dict[int, Page[ConsentEvent]]:
    """The first page of many customers' ledgers in one statement (firm view)."""
    policies.can_read(actor)
    order_by = [k.column.desc() for k in HISTORY_ORDER]
    position = (
        func.row_number()
        .over(partition_by=col(ConsentEvent.customer_id), order_by=order_by)
        .label("position")
    )
    inner = (
        select(ConsentEvent)
        .where(col(ConsentEvent.customer_id).in_(list(set(customer_ids))))
        .add_columns(position)
        .subquery()
    )
    row = aliased(ConsentEvent, inner)
    stmt = (
        select(row)
        .where(inner.c.position <= size + 1)
        .order_by(inner.c.customer_id, inner.c.position)
    )
    grouped: dict[int, list[ConsentEvent]] = {cid: [] for cid in customer_ids}
    for event in await session.scalars(stmt):
        grouped[event.customer_id].append(event)
    pages: dict[int, Page[ConsentEvent]] = {}
    for cid, items in grouped.items():
        more = len(items) > size
        items = items[:size]
        cursors = [encode_cursor([e.occurred_at, e.id]) for e in items]
        pages[cid] = Page(items, cursors, has_next_page=more, has_previous_page=False)
    return pages

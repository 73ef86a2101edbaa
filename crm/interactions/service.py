"""Interaction use cases: log, correct, delete, list."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from crm import events
from crm.actors import Actor, StaffActor
from crm.columns import utcnow
from crm.customers.models import Customer
from crm.customers.policies import customer_scope
from crm.db import upsert_insert
from crm.errors import Conflict, FieldError, NotFound, ValidationFailed
from crm.filtering import compile_where
from crm.insights.refresh import on_interactions_changed
from crm.interactions import policies
from crm.interactions.filters import (
    INTERACTION_SPEC,
    InteractionOrderField,
    interaction_order,
)
from crm.interactions.models import (
    MONETARY_KINDS,
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Source,
    Visibility,
)
from crm.pagination import Page, PageRequest, SortKey, encode_cursor, paginate
from crm.validation import (
    Errors,
    clean_currency,
    clean_enum,
    clean_money,
    clean_text,
)

EDITABLE_FIELDS = (
    "occurred_at",
    "channel",
    "direction",
    "kind",
    "subject",
    "body",
    "amount",
    "currency",
    "cost_to_serve",
    "rating",
    "sentiment",
    "visibility",
)
AUDITED_FIELDS = (*EDITABLE_FIELDS, "customer_id", "external_ref", "source")
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_BODY = 20_000


def snapshot(interaction: Interaction) -> dict[str, Any]:
    return {name: getattr(interaction, name) for name in AUDITED_FIELDS}


def moves_insights(fields: Mapping[str, Any]) -> bool:
    """Whether an interaction counts in a customer's insight measures beyond their
    activity dates: money (purchases, refunds, cost to serve) or a rating. Its
    customer's measures are then updated in the same transaction."""
    return (
        fields.get("kind") in MONETARY_KINDS
        or fields.get("cost_to_serve") is not None
        or fields.get("rating") is not None
    )


def source_of(actor: Actor) -> Source:
    return {
        "staff": Source.STAFF,
        "partner": Source.PARTNER,
        "customer": Source.CUSTOMER,
    }.get(actor.kind, Source.IMPORT)


def _clean_time(errors: Errors, field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors.add(field, "INVALID", f"{field} needs a date, time and UTC offset.")
        return None
    if not EARLIEST <= value <= LATEST:
        errors.add(field, "OUT_OF_RANGE", f"{field} must be between 1900 and 2200.")
        return None
    return value.astimezone(UTC)


def clean_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check each field on its own; `check_consistency` checks them together."""
    errors = Errors()
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name == "occurred_at":
            cleaned[name] = _clean_time(errors, name, value)
        elif name in ("channel", "direction", "kind", "visibility"):
            enum = {
                "channel": Channel,
                "direction": Direction,
                "kind": InteractionKind,
                "visibility": Visibility,
            }[name]
            cleaned[name] = clean_enum(errors, name, value, enum, required=True)
        elif name == "subject":
            cleaned[name] = clean_text(errors, name, value, max_length=500)
        elif name == "body":
            cleaned[name] = clean_text(errors, name, value, max_length=MAX_BODY)
        elif name in ("amount", "cost_to_serve"):
            cleaned[name] = clean_money(errors, name, value)
        elif name == "currency":
            cleaned[name] = clean_currency(errors, name, value)
        elif name == "rating":
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= 10
            ):
                errors.add(
                    name, "OUT_OF_RANGE", "rating is a whole number from 0 to 10."
                )
            cleaned[name] = value
        elif name == "sentiment":
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not -1.0 <= value <= 1.0
            ):
                errors.add(name, "OUT_OF_RANGE", "sentiment is a number from -1 to 1.")
            cleaned[name] = None if value is None else float(value)
        elif name == "external_ref":
            cleaned[name] = clean_text(errors, name, value, max_length=200)
        else:
            errors.add(name, "UNKNOWN_FIELD", f"{name} cannot be set.")
    errors.raise_if_any()
    return cleaned


def check_consistency(interaction: Interaction) -> None:
    """Money belongs to purchases and refunds, and always comes with a currency."""
    errors = Errors()
    monetary = interaction.kind in MONETARY_KINDS
    if monetary and interaction.amount is None:
        errors.add("amount", "REQUIRED", f"A {interaction.kind} needs an amount.")
    if not monetary and interaction.amount is not None:
        errors.add(
            "amount",
            "NOT_APPLICABLE",
            f"A {interaction.kind} has no amount; use kind purchase or refund.",
        )
    has_money = interaction.amount is not None or interaction.cost_to_serve is not None
    if has_money and interaction.currency is None:
        errors.add("currency", "REQUIRED", "An amount needs a currency.")
    errors.raise_if_any()


async def _open_customer(
    session: AsyncSession, actor: Actor, customer_id: int
) -> Customer:
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


async def get_interaction(
    session: AsyncSession, actor: Actor, interaction_id: int
) -> Interaction:
    found = await session.scalar(interaction_query(actor, interaction_id))
    if found is None:
        raise interaction_not_found()
    return found


async def by_ids(
    session: AsyncSession, actor: Actor, ids: Iterable[int]
) -> dict[int, Interaction]:
    """The interactions with these IDs that `actor` may see, by ID."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(
        policies.scoped(select(Interaction), actor).where(
            col(Interaction.id).in_(wanted)
        )
    )
    return {i.id: i for i in rows if i.id is not None}


def interaction_query(actor: Actor, interaction_id: Any) -> Select[Any]:
    """The interaction with this ID (or ID parameter), if `actor` may see it."""
    return policies.scoped(select(Interaction), actor).where(
        col(Interaction.id) == interaction_id
    )


def interactions_query(actor: Actor, interaction_ids: Any) -> Select[Any]:
    """The interactions with these IDs (or an expanding IDs parameter) that
    `actor` may see."""
    return policies.scoped(select(Interaction), actor).where(
        col(Interaction.id).in_(interaction_ids)
    )


def interaction_not_found() -> NotFound:
    """What a missing interaction, or one the caller may not see, reads as."""
    return NotFound("No interaction with that ID.", field="id")


@dataclass
class LogResult:
    interaction: Interaction
    created: bool


async def log_interaction(
    session: AsyncSession, actor: Actor, customer_id: int, data: Mapping[str, Any]
) -> LogResult:
    """Record a touchpoint; an `external_ref` seen before returns the first record.

    The happy path is one INSERT .. SELECT: it writes the row only if the customer
    is open to the actor and the reference is new (on PostgreSQL with its audit and
    outbox events, in the same statement). When it writes nothing, the checks run
    one by one to say why, in the order they always had. It refuses before writing
    anything, so a caller needs no savepoint to undo a refusal.
    """
    policies.can_write(actor)
    fields = clean_fields(data)
    scope = customer_scope(actor)
    now = utcnow()
    fields.setdefault("occurred_at", now)
    fields["visibility"] = fields.get("visibility") or Visibility.INTERNAL.value
    interaction = Interaction(
        customer_id=customer_id,
        source=source_of(actor).value,
        recorded_by=actor.ref,
        recorded_by_staff_id=actor.staff_id if isinstance(actor, StaffActor) else None,
        created_at=now,
        updated_at=now,
        version=1,
        **fields,
    )
    ref = fields.get("external_ref")
    try:
        check_consistency(interaction)
    except ValidationFailed:
        # An unknown or archived customer, or a reference seen before, answers first.
        existing = await _logged_before(session, actor, customer_id, ref)
        if existing is not None:
            return LogResult(existing, created=False)
        raise
    after = snapshot(interaction)
    try:
        new_id = await _insert(session, actor, scope, interaction, after)
    except IntegrityError:
        raise Conflict(
            "The same externalRef was logged at the same time; retry."
        ) from None
    if new_id is None:
        existing = await _logged_before(session, actor, customer_id, ref)
        if existing is not None:
            return LogResult(existing, created=False)
        raise Conflict("The same externalRef was logged at the same time; retry.")
    interaction.id = new_id
    if moves_insights(after):
        await on_interactions_changed(session, [customer_id])
    return LogResult(interaction, created=True)


async def _logged_before(
    session: AsyncSession, actor: Actor, customer_id: int, ref: str | None
) -> Interaction | None:
    """The checks of a log that wrote nothing: the customer must be open to the
    actor, and a reference seen before is the first record, of this customer only."""
    await _open_customer(session, actor, customer_id)
    if ref is None:
        return None
    existing = await session.scalar(
        select(Interaction).where(col(Interaction.external_ref) == ref)
    )
    if existing is not None and existing.customer_id != customer_id:
        raise ValidationFailed(
            [
                FieldError(
                    "external_ref",
                    "DUPLICATE",
                    "Another customer's interaction has this externalRef.",
                )
            ]
        )
    return existing


INTERACTION = Interaction.__table__  # type: ignore[attr-defined]
_INSERTED = tuple(c.name for c in INTERACTION.columns if c.name != "id")
# Built statements of `_insert` by dialect and customer scope (see `_scope_key`).
_INSERTS: dict[Hashable, Any] = {}


def _scope_key(scope: ColumnElement[bool]) -> Hashable | None:
    """What identifies a scope's SQL and values; None when it cannot be cached.

    The bound values are part of it, so that a statement built for one actor's
    scope is only ever reused for a scope that says exactly the same."""
    key = scope._generate_cache_key()
    if key is None:
        return None
    try:
        found = (key.key, tuple(b.effective_value for b in key.bindparams))
        hash(found)
    except TypeError:
        return None
    return found


def _insert_statement(dialect: str, scope: ColumnElement[bool]) -> Any:
    """INSERT .. SELECT of one interaction, written only if its customer is open to
    the actor and its reference is new, returning the new id (on PostgreSQL with
    its events); parameters are the row's columns and the events'. Built once per
    dialect and scope: a request neither builds nor compiles it."""
    memo = _scope_key(scope)
    if memo is not None and (dialect, memo) in _INSERTS:
        return _INSERTS[dialect, memo]
    values = (
        select(*(bindparam(name, type_=INTERACTION.c[name].type) for name in _INSERTED))
        .select_from(Customer)
        .where(
            col(Customer.id) == bindparam("customer_id"),
            col(Customer.archived_at).is_(None),
            scope,
        )
    )
    row = (
        upsert_insert(dialect)(INTERACTION)
        .from_select(list(_INSERTED), values)
        .on_conflict_do_nothing(index_elements=["external_ref"])
        .returning(INTERACTION.c.id)
    )
    stmt: Any = row
    if dialect == "postgresql":
        written = row.cte("new_interaction")
        stmt = select(written.c.id).add_cte(*events.following(written))
    if memo is not None and len(_INSERTS) < 64:
        _INSERTS[dialect, memo] = stmt
    return stmt


async def _insert(
    session: AsyncSession,
    actor: Actor,
    scope: ColumnElement[bool],
    interaction: Interaction,
    after: dict[str, Any],
) -> int | None:
    """Insert the row if its customer is open to the actor and its reference is
    new, with its events; the new id, or None when nothing was written."""
    dialect = (await session.connection()).dialect.name
    params = {name: getattr(interaction, name) for name in _INSERTED}
    event: dict[str, Any] = {
        "action": "interaction.logged",
        "entity_type": "Interaction",
        "changes": events.diff({}, {k: v for k, v in after.items() if v is not None}),
        "payload": {"customer_id": interaction.customer_id, "kind": interaction.kind},
    }
    stmt = _insert_statement(dialect, scope)
    if dialect == "postgresql":
        params.update(events.following_params(actor, **event))
        return await session.scalar(stmt, params)
    new_id = await session.scalar(stmt, params)
    if new_id is not None:
        await events.record(session, actor, entity_id=new_id, **event)
    return new_id


async def update_interaction(
    session: AsyncSession,
    actor: Actor,
    interaction_id: int,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Interaction:
    policies.can_write(actor)
    interaction = await get_interaction(session, actor, interaction_id)
    if expected_version is not None and interaction.version != expected_version:
        raise ValidationFailed(
            [
                FieldError(
                    "expected_version",
                    "CONFLICT",
                    f"The interaction is at version {interaction.version}, not "
                    f"{expected_version}. Reload and retry.",
                )
            ]
        )
    fields = clean_fields(changes)
    if "external_ref" in fields:
        raise ValidationFailed(
            [FieldError("external_ref", "IMMUTABLE", "externalRef cannot change.")]
        )
    before = snapshot(interaction)
    for name, value in fields.items():
        setattr(interaction, name, value)
    check_consistency(interaction)
    diff = events.diff(before, snapshot(interaction))
    if not diff:
        return interaction
    interaction.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError:
        raise Conflict("The interaction was changed by someone else; retry.") from None
    assert interaction.id is not None
    await events.record(
        session,
        actor,
        action="interaction.updated",
        entity_type="Interaction",
        entity_id=interaction.id,
        changes=diff,
        payload={"customer_id": interaction.customer_id},
    )
    if moves_insights(before) or moves_insights(snapshot(interaction)):
        await on_interactions_changed(session, [interaction.customer_id])
    return interaction


async def delete_interaction(
    session: AsyncSession, actor: Actor, interaction_id: int
) -> int:
    """Delete one interaction; the audit event keeps what it held."""
    policies.can_delete(actor)
    interaction = await get_interaction(session, actor, interaction_id)
    before = snapshot(interaction)
    await session.delete(interaction)
    await session.flush()
    await events.record(
        session,
        actor,
        action="interaction.deleted",
        entity_type="Interaction",
        entity_id=interaction_id,
        changes=events.diff(before, {}),
        payload={"customer_id": before["customer_id"]},
    )
    if moves_insights(before):
        await on_interactions_changed(session, [before["customer_id"]])
    return interaction_id


@dataclass
class InteractionList:
    page: Page[Interaction]
    count_statement: Select[Any]


def _filtered(actor: Actor, where: Mapping[str, Any] | None) -> Select[Any]:
    return policies.scoped(select(Interaction), actor).where(
        compile_where(INTERACTION_SPEC, where, actor)
    )


async def list_interactions(
    session: AsyncSession,
    actor: Actor,
    *,
    page: PageRequest,
    where: Mapping[str, Any] | None = None,
    order: InteractionOrderField = InteractionOrderField.OCCURRED_AT,
    descending: bool = True,
    customer_id: int | None = None,
) -> InteractionList:
    stmt, keys = interaction_list(
        actor, where=where, order=order, descending=descending
    )
    if customer_id is not None:
        stmt = stmt.where(col(Interaction.customer_id) == customer_id)
    result = await paginate(session, stmt, keys, page)
    return InteractionList(page=result, count_statement=stmt)


def interaction_list(
    actor: Actor,
    *,
    where: Mapping[str, Any] | None = None,
    order: InteractionOrderField = InteractionOrderField.OCCURRED_AT,
    descending: bool = True,
) -> tuple[Select[Any], list[SortKey]]:
    """The interactions `actor` asked for, unpaged, and the keys that order them:
    the rules of an interaction list, for the resolvers and the planner alike."""
    return _filtered(actor, where), interaction_order(order, descending)


async def first_pages_by_customer(
    session: AsyncSession,
    actor: Actor,
    customer_ids: Sequence[int],
    *,
    size: int,
    where: Mapping[str, Any] | None = None,
    order: InteractionOrderField = InteractionOrderField.OCCURRED_AT,
    descending: bool = True,
) -> dict[int, Page[Interaction]]:
    """The first page of interactions of many customers in one statement."""
    keys = interaction_order(order, descending)
    order_by = [k.column.desc() if k.descending else k.column.asc() for k in keys]
    customer_id = col(Interaction.customer_id)
    position = (
        func.row_number()
        .over(partition_by=customer_id, order_by=order_by)
        .label("position")
    )
    inner = (
        _filtered(actor, where)
        .where(customer_id.in_(list(set(customer_ids))))
        .add_columns(position)
        .subquery()
    )
    row = aliased(Interaction, inner)
    stmt = (
        select(row)
        .where(inner.c.position <= size + 1)
        .order_by(inner.c.customer_id, inner.c.position)
    )
    grouped: dict[int, list[Interaction]] = {cid: [] for cid in customer_ids}
    for interaction in await session.scalars(stmt):
        grouped[interaction.customer_id].append(interaction)
    pages: dict[int, Page[Interaction]] = {}
    for cid, items in grouped.items():
        more = len(items) > size
        items = items[:size]
        cursors = [encode_cursor([getattr(i, order.value), i.id]) for i in items]
        pages[cid] = Page(items, cursors, has_next_page=more, has_previous_page=False)
    return pages

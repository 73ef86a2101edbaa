"""Profile corrections: the customer proposes, low-risk fields apply at once, the
rest wait for staff review.

Low-risk fields (display name, locale, time zone, phone) change how the firm
addresses the customer, not who they are: they apply at once through the normal
customer update (validation, version bump, audit with the customer as actor).
Email, legal name and company identify the customer or carry legal weight, so a
staff member with corrections:review approves or rejects them. Approving
re-validates and re-checks uniqueness; a field changed by someone else since the
request is a CONFLICT. A taken email is only reported to the reviewer: telling the
customer would reveal that another customer uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm import events
from crm.actors import Actor, StaffActor
from crm.columns import utcnow
from crm.corrections.filters import CORRECTION_SPEC, correction_order
from crm.corrections.models import CorrectionStatus, ProfileCorrection
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.customers.policies import scoped
from crm.errors import FieldError, NotFound, ValidationFailed
from crm.filtering import compile_where
from crm.me import policies as me_policies
from crm.me import service as me_service
from crm.pagination import Page, PageRequest, encode_cursor, paginate
from crm.permissions import Permission
from crm.policy import require
from crm.validation import Errors, clean_text

LOW_RISK_FIELDS = frozenset({"display_name", "locale", "time_zone", "phone"})
REVIEWED_FIELDS = frozenset({"email", "given_name", "family_name", "company"})
CORRECTABLE_FIELDS = LOW_RISK_FIELDS | REVIEWED_FIELDS
MAX_REASON = 1000


@dataclass
class CorrectionOutcome:
    """What a correction request did: the profile now, and the rows it made
    (one APPLIED for low-risk fields, one PENDING for reviewed ones)."""

    profile: Customer
    corrections: list[ProfileCorrection]


def _clean_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values of the fields asked for, errors named `changes.<field>`."""
    unknown = [
        FieldError(f"changes.{name}", "UNKNOWN_FIELD", f"{name} cannot be corrected.")
        for name in changes
        if name not in CORRECTABLE_FIELDS
    ]
    if unknown:
        raise ValidationFailed(unknown)
    try:
        return customer_service.clean_fields(changes)
    except ValidationFailed as exc:
        raise ValidationFailed(
            [FieldError(f"changes.{e.field}", e.code, e.message) for e in exc.errors]
        ) from None


def _reviewer(actor: Actor) -> dict[str, Any]:
    return {
        "reviewed_at": utcnow(),
        "reviewer_ref": actor.ref,
        "reviewer_label": actor.label,
        "reviewer_role": actor.role.value if isinstance(actor, StaffActor) else None,
    }


async def _pending_fields(session: AsyncSession, customer_id: int) -> set[str]:
    rows = await session.scalars(
        select(ProfileCorrection).where(
            col(ProfileCorrection.customer_id) == customer_id,
            col(ProfileCorrection.status) == CorrectionStatus.PENDING.value,
        )
    )
    return {name for row in rows for name in row.changes}


async def _record(
    session: AsyncSession, actor: Actor, action: str, row: ProfileCorrection
) -> None:
    assert row.id is not None
    await events.record(
        session,
        actor,
        action=action,
        entity_type="Correction",
        entity_id=row.id,
        changes={"status": {"before": None, "after": row.status}, **row.changes}
        if action == "correction.requested"
        else {
            "status": {"before": CorrectionStatus.PENDING.value, "after": row.status}
        },
        payload={"customer_id": row.customer_id, "fields": sorted(row.changes)},
    )


async def request_correction(
    session: AsyncSession,
    actor: Actor,
    *,
    changes: Mapping[str, Any],
    reason: str | None = None,
) -> CorrectionOutcome:
    """The signed-in customer asks to correct their own profile."""
    customer = await me_service.my_profile(session, actor)
    assert customer.id is not None
    errors = Errors()
    cleaned_reason = clean_text(errors, "reason", reason, max_length=MAX_REASON)
    errors.raise_if_any()
    fields = _clean_changes(changes)
    effective = {k: v for k, v in fields.items() if getattr(customer, k) != v}
    if not effective:
        raise ValidationFailed(
            [
                FieldError(
                    "changes",
                    "NO_CHANGES",
                    "Nothing to correct: the values are "
                    "the ones the firm already holds.",
                )
            ]
        )
    reviewed = {k: v for k, v in effective.items() if k in REVIEWED_FIELDS}
    already = await _pending_fields(session, customer.id) & set(reviewed)
    if already:
        raise ValidationFailed(
            [
                FieldError(
                    f"changes.{name}",
                    "ALREADY_PENDING",
                    f"A correction of {name} is already waiting for review.",
                )
                for name in sorted(already)
            ]
        )
    rows: list[ProfileCorrection] = []
    low = {k: v for k, v in effective.items() if k in LOW_RISK_FIELDS}
    if low:
        before = customer_service.snapshot(customer)
        await customer_service.apply_changes(session, actor, customer, low)
        after = customer_service.snapshot(customer)
        rows.append(
            ProfileCorrection(
                customer_id=customer.id,
                status=CorrectionStatus.APPLIED.value,
                changes=events.diff(
                    {k: before[k] for k in low}, {k: after[k] for k in low}
                ),
                reason=cleaned_reason,
                reviewed_at=utcnow(),
            )
        )
    if reviewed:
        rows.append(
            ProfileCorrection(
                customer_id=customer.id,
                status=CorrectionStatus.PENDING.value,
                changes={
                    k: {
                        "before": events.jsonable(getattr(customer, k)),
                        "after": events.jsonable(v),
                    }
                    for k, v in sorted(reviewed.items())
                },
                reason=cleaned_reason,
            )
        )
    session.add_all(rows)
    await session.flush()
    for row in rows:
        await _record(session, actor, "correction.requested", row)
    return CorrectionOutcome(profile=customer, corrections=rows)


def _scope(actor: Actor) -> Any:
    """Corrections of the customers `actor` may see."""
    visible = scoped(select(col(Customer.id)), actor)
    return col(ProfileCorrection.customer_id).in_(visible)


async def get_correction(
    session: AsyncSession, actor: Actor, correction_id: int, *, lock: bool = False
) -> ProfileCorrection:
    """One correction, for a reviewer; `lock` holds its row until the transaction
    ends, so two reviewers cannot decide it at once."""
    require(actor, Permission.CORRECTIONS_REVIEW)
    stmt = select(ProfileCorrection).where(
        _scope(actor), col(ProfileCorrection.id) == correction_id
    )
    if lock:
        stmt = stmt.with_for_update(of=ProfileCorrection)
    found = await session.scalar(stmt)
    if found is None:
        raise NotFound("No correction with that ID.", field="id")
    return found


async def get_my_correction(
    session: AsyncSession, actor: Actor, correction_id: int
) -> ProfileCorrection:
    """One of the signed-in customer's own corrections (another's is NOT_FOUND)."""
    found = await session.scalar(
        select(ProfileCorrection).where(
            col(ProfileCorrection.customer_id) == me_policies.own_customer_id(actor),
            col(ProfileCorrection.id) == correction_id,
        )
    )
    if found is None:
        raise NotFound("No correction with that ID.", field="id")
    return found


async def _for_review(
    session: AsyncSession, actor: Actor, correction_id: int
) -> tuple[ProfileCorrection, Customer]:
    correction = await get_correction(session, actor, correction_id, lock=True)
    if correction.status != CorrectionStatus.PENDING.value:
        raise ValidationFailed(
            [
                FieldError(
                    "id",
                    "NOT_PENDING",
                    f"This correction was already {correction.status}.",
                )
            ]
        )
    customer = await customer_service.get_customer(
        session, actor, correction.customer_id
    )
    return correction, customer


async def approve_correction(
    session: AsyncSession, actor: Actor, correction_id: int
) -> ProfileCorrection:
    """Apply a pending correction; it stays pending when it cannot apply."""
    correction, customer = await _for_review(session, actor, correction_id)
    if customer.erased_at is not None or customer.merged_into_id is not None:
        raise ValidationFailed(
            [FieldError("id", "CUSTOMER_INACTIVE", "The customer record is gone.")]
        )
    moved = [
        name
        for name, change in correction.changes.items()
        if events.jsonable(getattr(customer, name)) != change["before"]
    ]
    if moved:
        raise ValidationFailed(
            [
                FieldError(
                    f"changes.{name}",
                    "CONFLICT",
                    f"{name} changed since the customer asked; reject this "
                    "correction or ask the customer again.",
                )
                for name in sorted(moved)
            ]
        )
    fields = _clean_changes({k: v["after"] for k, v in correction.changes.items()})
    await customer_service.apply_changes(session, actor, customer, fields)
    for name, value in _reviewer(actor).items():
        setattr(correction, name, value)
    correction.status = CorrectionStatus.APPROVED.value
    await session.flush()
    await _record(session, actor, "correction.approved", correction)
    return correction


async def reject_correction(
    session: AsyncSession, actor: Actor, correction_id: int, *, reason: str | None
) -> ProfileCorrection:
    """Turn a pending correction down, saying why (the customer sees the reason)."""
    correction, _ = await _for_review(session, actor, correction_id)
    errors = Errors()
    cleaned = clean_text(errors, "reason", reason, max_length=MAX_REASON, required=True)
    errors.raise_if_any()
    for name, value in _reviewer(actor).items():
        setattr(correction, name, value)
    correction.status = CorrectionStatus.REJECTED.value
    correction.review_reason = cleaned
    await session.flush()
    await _record(session, actor, "correction.rejected", correction)
    return correction


@dataclass
class CorrectionList:
    page: Page[ProfileCorrection]
    count_statement: Select[Any]


async def list_corrections(
    session: AsyncSession,
    actor: Actor,
    *,
    page: PageRequest,
    where: Mapping[str, Any] | None = None,
    customer_id: int | None = None,
) -> CorrectionList:
    """Corrections for review, newest first."""
    stmt = _reviewable(actor, where)
    if customer_id is not None:
        stmt = stmt.where(col(ProfileCorrection.customer_id) == customer_id)
    result = await paginate(session, stmt, correction_order(), page)
    return CorrectionList(page=result, count_statement=stmt)


def _reviewable(actor: Actor, where: Mapping[str, Any] | None) -> Select[Any]:
    require(actor, Permission.CORRECTIONS_REVIEW)
    return select(ProfileCorrection).where(
        _scope(actor), compile_where(CORRECTION_SPEC, where, actor)
    )


async def first_pages_by_customer(
    session: AsyncSession,
    actor: Actor,
    customer_ids: Sequence[int],
    *,
    size: int,
    where: Mapping[str, Any] | None = None,
) -> dict[int, Page[ProfileCorrection]]:
    """The first page of many customers' corrections in one statement, as
    `list_corrections` pages each (newest first, same cursors)."""
    keys = correction_order()
    customer_id = col(ProfileCorrection.customer_id)
    position = (
        func.row_number()
        .over(
            partition_by=customer_id,
            order_by=[k.column.desc() if k.descending else k.column for k in keys],
        )
        .label("position")
    )
    inner = (
        _reviewable(actor, where)
        .where(customer_id.in_(list(set(customer_ids))))
        .add_columns(position)
        .subquery()
    )
    row = aliased(ProfileCorrection, inner)
    stmt = (
        select(row)
        .where(inner.c.position <= size + 1)
        .order_by(inner.c.customer_id, inner.c.position)
    )
    grouped: dict[int, list[ProfileCorrection]] = {cid: [] for cid in customer_ids}
    for correction in await session.scalars(stmt):
        grouped[correction.customer_id].append(correction)
    return {
        cid: Page(
            items[:size],
            [encode_cursor([c.id]) for c in items[:size]],
            has_next_page=len(items) > size,
            has_previous_page=False,
        )
        for cid, items in grouped.items()
    }


async def counts_by_customer(
    session: AsyncSession,
    actor: Actor,
    customer_ids: Sequence[int],
    *,
    where: Mapping[str, Any] | None = None,
) -> dict[int, int]:
    """How many (matching) corrections each customer has, in one GROUP BY."""
    customer_id = col(ProfileCorrection.customer_id)
    stmt = (
        _reviewable(actor, where)
        .with_only_columns(customer_id, func.count())
        .where(customer_id.in_(list(set(customer_ids))))
        .group_by(customer_id)
    )
    found = {int(cid): int(n) for cid, n in await session.execute(stmt)}
    return {cid: found.get(cid, 0) for cid in customer_ids}


async def my_corrections(
    session: AsyncSession,
    actor: Actor,
    *,
    page: PageRequest,
    where: Mapping[str, Any] | None = None,
) -> CorrectionList:
    """The signed-in customer's own corrections, newest first."""
    await me_service.my_profile(session, actor)
    stmt = select(ProfileCorrection).where(
        col(ProfileCorrection.customer_id) == me_policies.own_customer_id(actor),
        compile_where(CORRECTION_SPEC, where, actor),
    )
    result = await paginate(session, stmt, correction_order(), page)
    return CorrectionList(page=result, count_statement=stmt)

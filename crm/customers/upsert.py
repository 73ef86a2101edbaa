"""Bulk create-or-update of customers for partners and importers, set-based.

A row matches a customer by external_ref, else by email (case-insensitive); a new
external_ref whose email belongs to a customer without one adopts that customer.
Matched rows change only the keys they give; unmatched rows create customers.
Every check runs before anything is written, so REJECT_EVERYTHING can refuse the
whole batch and REJECT_FAILED_ROWS never writes half a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor
from crm.columns import utcnow
from crm.consent import service as consent_service
from crm.customers import policies, repository
from crm.customers.models import Customer
from crm.customers.service import (
    clean_fields,
    derive,
    email_key,
    flush_unique,
    snapshot,
)
from crm.errors import BadInput, ValidationFailed
from crm.staff.models import StaffMember

MAX_ROWS = 500


class ErrorPolicy(StrEnum):
    REJECT_EVERYTHING = "reject_everything"
    REJECT_FAILED_ROWS = "reject_failed_rows"


@dataclass
class RowError:
    index: int
    field: str | None
    code: str
    message: str


@dataclass
class RowResult:
    """One input row: its customer (None when rejected) and what went wrong."""

    index: int
    customer: Customer | None
    created: bool
    errors: list[RowError] = field(default_factory=list)


@dataclass
class UpsertResult:
    rows: list[RowResult]
    created: int
    updated: int
    unchanged: int
    rejected: int


@dataclass
class _Plan:
    """A row after validation and matching, before anything is written."""

    index: int
    fields: dict[str, Any]
    target: Customer | None = None
    errors: list[RowError] = field(default_factory=list)


def _clean_row(index: int, row: Any) -> _Plan:
    if not isinstance(row, Mapping):
        message = "Each row must be an object of customer fields."
        return _Plan(index, {}, errors=[RowError(index, None, "INVALID", message)])
    try:
        fields = clean_fields(row)
    except ValidationFailed as exc:
        errors = [RowError(index, e.field, e.code, e.message) for e in exc.errors]
        return _Plan(index, {}, errors=errors)
    owner = fields.get("owner_id")
    if owner is not None and (isinstance(owner, bool) or not isinstance(owner, int)):
        message = "owner_id must be a staff member ID (a whole number)."
        return _Plan(
            index, {}, errors=[RowError(index, "owner_id", "INVALID", message)]
        )
    if fields.get("external_ref") is None and fields.get("email") is None:
        message = "Give external_ref or email: the row needs one to match a customer."
        return _Plan(index, {}, errors=[RowError(index, None, "REQUIRED", message)])
    return _Plan(index, fields)


class _Matcher:
    """Matches rows to existing customers and keeps the batch free of collisions."""

    def __init__(
        self,
        by_ref: dict[str, Customer],
        by_email: dict[str, Customer],
        active_staff: set[int],
        hidden: set[int],
    ) -> None:
        self.by_ref, self.by_email, self.active_staff = by_ref, by_email, active_staff
        # Customers the caller may not see (partner sharing withdrawn).
        self.hidden = hidden
        self.claimed: dict[str, set[Any]] = {"external_ref": set(), "email": set()}
        self.claimed_ids: set[int] = set()

    def match(self, plan: _Plan) -> None:
        i, fields = plan.index, plan.fields
        ref, key = fields.get("external_ref"), email_key(fields.get("email"))
        keys = {"external_ref": ref, "email": key}
        for name, value in keys.items():
            if value is not None and value in self.claimed[name]:
                plan.errors.append(_in_batch(i, name))
                return
        ref_hit = self.by_ref.get(ref) if ref else None
        email_hit = self.by_email.get(key) if key else None
        target = ref_hit if ref else email_hit
        if ref and target is None and email_hit and email_hit.external_ref is None:
            target = email_hit  # adopt: the partner now knows this customer by ref
        if target is not None and target.id in self.claimed_ids:
            plan.errors.append(_in_batch(i, "external_ref" if ref else "email"))
            return
        for name, hit in (("external_ref", ref_hit), ("email", email_hit)):
            if hit is not None and hit.id in self.hidden:
                message = "No customer with this key is available to your app."
                plan.errors.append(RowError(i, name, "NOT_AVAILABLE", message))
                return
        if email_hit is not None and email_hit is not target:
            message = "Another customer already has this email."
            plan.errors.append(RowError(i, "email", "DUPLICATE", message))
            return
        if target is not None and target.archived_at is not None:
            message = (
                "The matching customer is archived"
                + (" (merged into another)" if target.merged_into_id else "")
                + "; restore it before writing to it."
            )
            name = "external_ref" if ref_hit is target else "email"
            plan.errors.append(RowError(i, name, "ARCHIVED", message))
            return
        owner = fields.get("owner_id")
        if owner is not None and owner not in self.active_staff:
            message = "No active staff member has that ID."
            plan.errors.append(RowError(i, "owner_id", "NOT_FOUND", message))
            return
        plan.target = target
        for name, value in keys.items():
            if value is not None:
                self.claimed[name].add(value)
        if target is not None and target.id is not None:
            self.claimed_ids.add(target.id)


def _in_batch(index: int, name: str) -> RowError:
    return RowError(
        index,
        name,
        "DUPLICATE_IN_BATCH",
        f"An earlier row of this batch is for the same customer (same {name}).",
    )


async def _active_staff_ids(session: AsyncSession, ids: set[int]) -> set[int]:
    # One query for every owner of the batch (check_references asks one by one).
    if not ids:
        return set()
    stmt = select(col(StaffMember.id)).where(
        col(StaffMember.id).in_(ids), col(StaffMember.archived_at).is_(None)
    )
    return {i for i in await session.scalars(stmt) if i is not None}


def _assign(customer: Customer, fields: Mapping[str, Any]) -> None:
    # The same steps as service.apply_changes, without its per-row SQL.
    for name, value in fields.items():
        setattr(customer, name, value)
    if "display_name" in fields and fields["display_name"] is None:
        customer.display_name = ""
    derive(customer)


async def upsert_customers(
    session: AsyncSession,
    actor: Actor,
    rows: Sequence[Mapping[str, Any]],
    *,
    policy: ErrorPolicy,
) -> UpsertResult:
    """Create or partially update customers matched by external_ref or email."""
    policies.can_write(actor)
    policy = ErrorPolicy(policy)
    if len(rows) > MAX_ROWS:
        raise BadInput(
            f"At most {MAX_ROWS} rows per call; got {len(rows)}. Split the batch.",
            field="rows",
        )
    plans = [_clean_row(i, row) for i, row in enumerate(rows)]
    valid = [p for p in plans if not p.errors]
    refs = {r for p in valid if (r := p.fields.get("external_ref"))}
    emails = {k for p in valid if (k := email_key(p.fields.get("email")))}
    by_ref, by_email = await repository.by_keys(
        session, external_refs=refs, email_keys=emails
    )
    owners = {o for p in valid if (o := p.fields.get("owner_id")) is not None}
    found = [*by_ref.values(), *by_email.values()]
    hidden = await consent_service.hidden_from(session, actor, (c.id for c in found))
    active = await _active_staff_ids(session, owners)
    matcher = _Matcher(by_ref, by_email, active, hidden)
    for plan in valid:
        matcher.match(plan)

    if policy is ErrorPolicy.REJECT_EVERYTHING and any(p.errors for p in plans):
        return UpsertResult(
            rows=[RowResult(p.index, None, False, p.errors) for p in plans],
            created=0,
            updated=0,
            unchanged=0,
            rejected=len(plans),
        )

    results: list[RowResult] = []
    created: list[Customer] = []
    changed: dict[int, dict[str, Any]] = {}
    now = utcnow()
    for plan in plans:
        if plan.errors:
            results.append(RowResult(plan.index, None, False, plan.errors))
        elif plan.target is None:
            customer = Customer(**plan.fields)
            derive(customer)
            created.append(customer)
            results.append(RowResult(plan.index, customer, True))
        else:
            customer = plan.target
            before = snapshot(customer)
            _assign(customer, plan.fields)
            changes = events.diff(before, snapshot(customer))
            if changes:
                customer.updated_at = now
                changed[plan.index] = changes
            results.append(RowResult(plan.index, customer, False))
    if created or changed:
        session.add_all(created)
        await flush_unique(session)
    await events.record_many(session, actor, _events(results, changed))
    rejected = sum(1 for r in results if r.errors)
    return UpsertResult(
        rows=results,
        created=len(created),
        updated=len(changed),
        unchanged=len(results) - rejected - len(created) - len(changed),
        rejected=rejected,
    )


def _events(
    results: list[RowResult], changed: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for row in results:
        customer = row.customer
        if customer is None or not (row.created or row.index in changed):
            continue
        if row.created:
            initial = {k: v for k, v in snapshot(customer).items() if v}
            action, changes = "customer.created", events.diff({}, initial)
        else:
            action, changes = "customer.updated", changed[row.index]
        found.append(
            {
                "action": action,
                "entity_type": "Customer",
                "entity_id": customer.id,
                "changes": changes,
            }
        )
    return found

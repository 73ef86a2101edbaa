"""Customer use cases: every edge (GraphQL, CLI, importer) calls these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from crm import events
from crm.actors import Actor
from crm.columns import utcnow
from crm.customers import policies, repository
from crm.customers.filters import (
    CUSTOMER_SPEC,
    CustomerOrderField,
    customer_order,
    mentions_archived,
)
from crm.customers.models import Customer, LifecycleStage
from crm.customers.search import plan_search, search_join
from crm.errors import Conflict, FieldError, NotFound, ValidationFailed
from crm.filtering import compile_where
from crm.pagination import Page, PageRequest, SortKey, paginate
from crm.staff.models import StaffMember
from crm.validation import (
    Errors,
    clean_attributes,
    clean_email,
    clean_enum,
    clean_locale,
    clean_phone,
    clean_tags,
    clean_text,
    clean_time_zone,
    search_document,
)

EDITABLE_FIELDS = (
    "external_ref",
    "email",
    "phone",
    "given_name",
    "family_name",
    "display_name",
    "company",
    "locale",
    "time_zone",
    "lifecycle_stage",
    "tags",
    "attributes",
    "owner_id",
)
AUDITED_FIELDS = (*EDITABLE_FIELDS, "archived_at", "merged_into_id")
_NULLABLE_NOT = ("lifecycle_stage", "tags", "attributes")


def snapshot(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in AUDITED_FIELDS}


def clean_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the given customer fields; raises ValidationFailed naming each field."""
    errors = Errors()
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name not in EDITABLE_FIELDS:
            errors.add(name, "UNKNOWN_FIELD", f"{name} cannot be set.")
        elif name in _NULLABLE_NOT and value is None:
            errors.add(name, "REQUIRED", f"{name} cannot be null.")
        elif name == "email":
            cleaned[name] = clean_email(errors, name, value)
        elif name == "phone":
            cleaned[name] = clean_phone(errors, name, value)
        elif name == "locale":
            cleaned[name] = clean_locale(errors, name, value)
        elif name == "time_zone":
            cleaned[name] = clean_time_zone(errors, name, value)
        elif name == "lifecycle_stage":
            cleaned[name] = clean_enum(errors, name, value, LifecycleStage)
        elif name == "tags":
            cleaned[name] = clean_tags(errors, name, value)
        elif name == "attributes":
            cleaned[name] = clean_attributes(errors, name, value)
        elif name == "owner_id":
            valid = value is None or (
                isinstance(value, int)
                and not isinstance(value, bool)
                and 0 < value < 2**31
            )
            if not valid:
                errors.add(name, "INVALID", "owner_id must be a staff member's ID.")
            cleaned[name] = value
        else:
            cleaned[name] = clean_text(errors, name, value, max_length=200)
    errors.raise_if_any()
    return cleaned


def email_key(email: str | None) -> str | None:
    """The form emails are unique in: case-insensitive."""
    return email.strip().lower() if email else None


def derive(customer: Customer) -> None:
    """Keep the computed columns (display name, email key, search text) in step."""
    if not customer.display_name:
        names = " ".join(p for p in (customer.given_name, customer.family_name) if p)
        customer.display_name = (
            names or customer.company or customer.email or customer.phone or "Unnamed"
        )[:200]
    customer.email_key = email_key(customer.email)
    customer.search_text = search_document(
        (
            customer.given_name,
            customer.family_name,
            customer.display_name,
            customer.email,
            customer.company,
        )
    )


async def check_references(session: AsyncSession, fields: Mapping[str, Any]) -> None:
    owner_id = fields.get("owner_id")
    if owner_id is None:
        return
    owner = await session.get(StaffMember, owner_id)
    if owner is None or owner.archived_at is not None:
        raise ValidationFailed(
            [FieldError("owner_id", "NOT_FOUND", "No active staff member has that ID.")]
        )


async def check_unique(
    session: AsyncSession, customer: Customer, *, exclude_id: int | None = None
) -> None:
    """Email and external reference are unique: say which one is taken."""
    by_ref, by_email = await repository.by_keys(
        session,
        external_refs=[customer.external_ref] if customer.external_ref else [],
        email_keys=[customer.email_key] if customer.email_key else [],
    )
    errors = Errors()
    for field, found in (("external_ref", by_ref), ("email", by_email)):
        other = next(iter(found.values()), None)
        if other is not None and other.id != exclude_id:
            errors.add(
                field, "DUPLICATE", f"Another customer already has this {field}."
            )
    errors.raise_if_any()


async def flush_unique(session: AsyncSession) -> None:
    """Flush, turning a lost race on a unique key into a field error."""
    try:
        await session.flush()
    except IntegrityError as exc:
        message = str(exc.orig).lower()
        field = "external_ref" if "external_ref" in message else "email"
        raise ValidationFailed(
            [
                FieldError(
                    field, "DUPLICATE", f"Another customer already has this {field}."
                )
            ]
        ) from None
    except StaleDataError:
        raise Conflict(
            "The customer was changed by someone else; reload and retry."
        ) from None


async def get_customer(
    session: AsyncSession, actor: Actor, customer_id: int
) -> Customer:
    found = await repository.by_ids(session, actor, [customer_id])
    if customer_id not in found:
        raise customer_not_found()
    return found[customer_id]


def customer_query(actor: Actor, customer_id: Any) -> Select[Any]:
    """The customer with this ID (or ID parameter), if `actor` may see them."""
    return repository.customers(actor).where(Customer.id == customer_id)  # type: ignore[arg-type]


def customers_query(actor: Actor, customer_ids: Any) -> Select[Any]:
    """The customers with these IDs (or an expanding IDs parameter) that `actor`
    may see."""
    return repository.customers(actor).where(Customer.id.in_(customer_ids))  # type: ignore[union-attr]


def customer_not_found() -> NotFound:
    """What a missing customer, or one the caller may not see, reads as."""
    return NotFound("No customer with that ID.", field="id")


@dataclass
class CustomerList:
    """One page of customers and the statement that counts the whole list."""

    page: Page[Customer]
    count_statement: Select[Any]


async def list_customers(
    session: AsyncSession,
    actor: Actor,
    *,
    page: PageRequest,
    where: Mapping[str, Any] | None = None,
    search: str | None = None,
    order: CustomerOrderField | None = None,
    descending: bool = False,
) -> CustomerList:
    stmt, keys = await customer_list(
        session, actor, where=where, search=search, order=order, descending=descending
    )
    result = await paginate(session, stmt, keys, page)
    return CustomerList(page=result, count_statement=stmt)


async def customer_list(
    session: AsyncSession,
    actor: Actor,
    *,
    where: Mapping[str, Any] | None = None,
    search: str | None = None,
    order: CustomerOrderField | None = None,
    descending: bool = False,
) -> tuple[Select[Any], list[SortKey]]:
    """The customers `actor` asked for, unpaged, and the keys that order them: the
    rules of a customer list, for the resolvers and the planner alike."""
    stmt = repository.customers(actor).where(compile_where(CUSTOMER_SPEC, where, actor))
    if not mentions_archived(where):
        stmt = stmt.where(Customer.archived_at.is_(None))  # type: ignore[union-attr]
    keys: list[SortKey] = customer_order(
        order or CustomerOrderField.CREATED_AT, descending, actor
    )
    plan = await plan_search(session, search) if search else None
    if plan is not None:
        if plan.join_fts:
            stmt = search_join(stmt)
        stmt = stmt.where(plan.condition)
        if order is None:
            keys = [SortKey(plan.rank, "float"), SortKey(Customer.id, "int")]  # type: ignore[arg-type]
    return stmt, keys


async def create_customer(
    session: AsyncSession, actor: Actor, data: Mapping[str, Any]
) -> Customer:
    policies.can_write(actor)
    fields = clean_fields(data)
    await check_references(session, fields)
    customer = Customer(**fields)
    derive(customer)
    await check_unique(session, customer)
    session.add(customer)
    await flush_unique(session)
    assert customer.id is not None
    await events.record(
        session,
        actor,
        action="customer.created",
        entity_type="Customer",
        entity_id=customer.id,
        changes=events.diff({}, {k: v for k, v in snapshot(customer).items() if v}),
    )
    return customer


def check_version(customer: Customer, expected_version: int | None) -> None:
    if expected_version is not None and customer.version != expected_version:
        raise ValidationFailed(
            [
                FieldError(
                    "expected_version",
                    "CONFLICT",
                    f"The customer is at version {customer.version}, not "
                    f"{expected_version}: someone changed it. Reload and retry.",
                )
            ]
        )


async def update_customer(
    session: AsyncSession,
    actor: Actor,
    customer_id: int,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Customer:
    policies.can_write(actor)
    customer = await get_customer(session, actor, customer_id)
    check_version(customer, expected_version)
    fields = clean_fields(changes)
    await check_references(session, fields)
    return await apply_changes(session, actor, customer, fields)


async def apply_changes(
    session: AsyncSession,
    actor: Actor,
    customer: Customer,
    fields: Mapping[str, Any],
    *,
    action: str = "customer.updated",
) -> Customer:
    """Write already-validated fields; no-op (no version bump) when nothing changes."""
    before = snapshot(customer)
    for name, value in fields.items():
        setattr(customer, name, value)
    if "display_name" in fields and fields["display_name"] is None:
        customer.display_name = ""
    derive(customer)
    changes = events.diff(before, snapshot(customer))
    if not changes:
        return customer
    customer.updated_at = utcnow()
    with session.no_autoflush:  # one UPDATE, one version bump, errors mapped below
        await check_unique(session, customer, exclude_id=customer.id)
    await flush_unique(session)
    assert customer.id is not None
    await events.record(
        session,
        actor,
        action=action,
        entity_type="Customer",
        entity_id=customer.id,
        changes=changes,
    )
    return customer


async def archive_customer(
    session: AsyncSession, actor: Actor, customer_id: int, *, archived: bool
) -> Customer:
    """Soft-delete (or restore) a customer; their history stays."""
    policies.can_archive(actor)
    customer = await get_customer(session, actor, customer_id)
    if customer.merged_into_id is not None and not archived:
        raise ValidationFailed(
            [FieldError("id", "MERGED", "A merged customer cannot be restored.")]
        )
    return await apply_changes(
        session,
        actor,
        customer,
        {"archived_at": utcnow() if archived else None}
        if (customer.archived_at is None) == archived
        else {},
        action="customer.archived" if archived else "customer.restored",
    )

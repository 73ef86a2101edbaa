"""Inputs of the customer queries and mutations."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from crm.customers.filters import CustomerOrderField as DomainOrderField
from crm.customers.upsert import ErrorPolicy as DomainErrorPolicy
from schema.enums import CustomerOrderField, ErrorPolicy, LifecycleStage, OrderDirection


@strawberry.input(description="How to sort customers.")
class CustomerOrder:
    field: CustomerOrderField = DomainOrderField.CREATED_AT  # type: ignore[assignment]
    direction: OrderDirection = OrderDirection.ASC


def _field(description: str | None = None) -> Any:
    return strawberry.field(default=UNSET, description=description)


@strawberry.input(description="Customer fields; omitted fields stay as they are.")
class CustomerFields:
    external_ref: str | None = _field("Unique ID in a partner or upstream system.")
    email: str | None = _field("Unique, case-insensitive.")
    phone: str | None = _field()
    given_name: str | None = _field()
    family_name: str | None = _field()
    display_name: str | None = _field("Defaults to given + family name.")
    company: str | None = _field()
    locale: str | None = _field("BCP 47, e.g. en-GB.")
    time_zone: str | None = _field("IANA, e.g. Europe/Paris.")
    lifecycle_stage: LifecycleStage | None = _field()
    tags: list[str] | None = _field("Replaces the whole list (at most 50 tags).")
    attributes: JSON | None = _field("Replaces the whole object (at most 16 KiB).")
    owner_id: strawberry.ID | None = _field("ID of the owning staff member.")


@strawberry.input(description="A new customer.")
class CustomerCreateInput(CustomerFields):
    pass


@strawberry.input(description="Changes to a customer; omitted fields are kept.")
class CustomerUpdateInput(CustomerFields):
    id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=UNSET,
        description="The version you read: a stale one gives a CONFLICT error.",
    )


@strawberry.input(description="Identifies one customer.")
class CustomerIdInput:
    id: strawberry.ID


@strawberry.input(
    description="Merge a duplicate (source) into the customer kept (target)."
)
class CustomerMergeInput:
    target_id: strawberry.ID
    source_id: strawberry.ID
    expected_target_version: int | None = UNSET
    expected_source_version: int | None = UNSET


@strawberry.input(
    description="One row of a bulk upsert, matched by externalRef or email."
)
class CustomerUpsertRow(CustomerFields):
    pass


@strawberry.input(description="Up to 500 customers to create or update.")
class CustomersUpsertInput:
    rows: list[CustomerUpsertRow]
    error_policy: ErrorPolicy = strawberry.field(
        default=DomainErrorPolicy.REJECT_EVERYTHING,
        description="REJECT_EVERYTHING (default): any bad row and nothing is written.",
    )

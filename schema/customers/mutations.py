"""Customer mutations: each takes one input and returns a payload with errors."""

from __future__ import annotations

import strawberry

from crm.customers import merge, service, upsert
from crm.permissions import Permission
from schema.context import Info
from schema.customers.inputs import (
    CustomerCreateInput,
    CustomerIdInput,
    CustomerMergeInput,
    CustomersUpsertInput,
    CustomerUpdateInput,
)
from schema.customers.types import Customer
from schema.errors import UserError, attempt, camel, in_savepoint
from schema.permissions import Has, gate
from schema.relay import pk_of
from schema.scalars import given, plain, provided


@strawberry.type(description="The result of a customer mutation.")
class CustomerPayload:
    customer: Customer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of customerMerge.")
class CustomerMergePayload:
    customer: Customer | None = strawberry.field(
        default=None, description="The customer kept, with the merged data."
    )
    moved_interactions: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A problem with one row of a bulk upsert.")
class RowError:
    index: int = strawberry.field(description="0-based position of the row in `rows`.")
    field: str | None
    code: str
    message: str


@strawberry.type(description="What happened to one row of a bulk upsert.")
class CustomerUpsertResult:
    index: int
    customer: Customer | None
    created: bool
    errors: list[RowError]


@strawberry.type(description="The result of customersUpsert.")
class CustomersUpsertPayload:
    results: list[CustomerUpsertResult] = strawberry.field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


def customer_fields(
    input_: object, *, exclude: tuple[str, ...] = (), at: str = "input"
) -> dict[str, object]:
    """The fields sent, with the owner's global ID decoded (BAD_USER_INPUT if bad)."""
    data = provided(input_, exclude=exclude)
    if data.get("owner_id") is not None:
        data["owner_id"] = pk_of(data["owner_id"], "StaffMember", field=f"{at}.ownerId")
    return data


def payload_of(customer: object) -> CustomerPayload:
    return CustomerPayload(customer=Customer.from_model(customer))  # type: ignore[arg-type]


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(
        description="Create a customer.",
        extensions=gate(Has(Permission.CUSTOMERS_WRITE)),
    )
    async def customer_create(
        self, info: Info, input: CustomerCreateInput
    ) -> CustomerPayload:
        ctx = info.context
        data = customer_fields(input)
        return await attempt(
            ctx.session,
            lambda: service.create_customer(ctx.session, ctx.actor, data),
            payload_of,
            CustomerPayload,
        )

    @strawberry.mutation(
        description="Change some fields of a customer (null clears a field).",
        extensions=gate(Has(Permission.CUSTOMERS_WRITE)),
    )
    async def customer_update(
        self, info: Info, input: CustomerUpdateInput
    ) -> CustomerPayload:
        ctx = info.context
        customer_id = pk_of(input.id, "Customer", field="input.id")
        expected = given(input.expected_version)
        data = customer_fields(input, exclude=("id", "expected_version"))
        return await attempt(
            ctx.session,
            lambda: service.update_customer(
                ctx.session, ctx.actor, customer_id, data, expected_version=expected
            ),
            payload_of,
            CustomerPayload,
        )

    @strawberry.mutation(
        description="Archive (soft-delete) a customer; history is kept.",
        extensions=gate(Has(Permission.CUSTOMERS_ARCHIVE)),
    )
    async def customer_archive(
        self, info: Info, input: CustomerIdInput
    ) -> CustomerPayload:
        return await _archive(info, input, archived=True)

    @strawberry.mutation(
        description="Bring back an archived customer.",
        extensions=gate(Has(Permission.CUSTOMERS_ARCHIVE)),
    )
    async def customer_restore(
        self, info: Info, input: CustomerIdInput
    ) -> CustomerPayload:
        return await _archive(info, input, archived=False)

    @strawberry.mutation(
        description="Merge a duplicate into another customer: interactions move, empty "
        "fields are filled, the duplicate is archived, both audit trails are kept.",
        extensions=gate(Has(Permission.CUSTOMERS_MERGE)),
    )
    async def customer_merge(
        self, info: Info, input: CustomerMergeInput
    ) -> CustomerMergePayload:
        ctx = info.context
        target = pk_of(input.target_id, "Customer", field="input.targetId")
        source = pk_of(input.source_id, "Customer", field="input.sourceId")
        options = provided(input, exclude=("target_id", "source_id"))
        return await attempt(
            ctx.session,
            lambda: merge.merge_customers(
                ctx.session, ctx.actor, target_id=target, source_id=source, **options
            ),
            lambda result: CustomerMergePayload(
                customer=Customer.from_model(result.customer),
                moved_interactions=result.moved_interactions,
            ),
            CustomerMergePayload,
        )

    @strawberry.mutation(
        description="Create or update up to 500 customers, matched by externalRef, "
        "else by email. Per-row errors carry the row index.",
        extensions=gate(Has(Permission.CUSTOMERS_WRITE)),
    )
    async def customers_upsert(
        self, info: Info, input: CustomersUpsertInput
    ) -> CustomersUpsertPayload:
        ctx = info.context
        rows = [
            customer_fields(row, at=f"input.rows.{index}")
            for index, row in enumerate(input.rows)
        ]
        result = await in_savepoint(
            ctx.session,
            lambda: upsert.upsert_customers(
                ctx.session,
                ctx.actor,
                rows,
                policy=upsert.ErrorPolicy(plain(input.error_policy)),
            ),
        )
        return CustomersUpsertPayload(
            results=[
                CustomerUpsertResult(
                    index=r.index,
                    customer=Customer.from_model(r.customer) if r.customer else None,
                    created=r.created,
                    errors=[
                        RowError(
                            index=e.index,
                            field=camel(e.field),
                            code=e.code,
                            message=e.message,
                        )
                        for e in r.errors
                    ],
                )
                for r in result.rows
            ],
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
        )


async def _archive(
    info: Info, input: CustomerIdInput, *, archived: bool
) -> CustomerPayload:
    ctx = info.context
    customer_id = pk_of(input.id, "Customer", field="input.id")
    return await attempt(
        ctx.session,
        lambda: service.archive_customer(
            ctx.session, ctx.actor, customer_id, archived=archived
        ),
        payload_of,
        CustomerPayload,
    )

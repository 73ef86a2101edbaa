"""Customer queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm.customers import service
from crm.customers.filters import CustomerOrderField as DomainOrderField
from crm.pagination import count
from crm.permissions import Permission
from schema.context import Info
from schema.customers.inputs import CustomerOrder
from schema.customers.types import Customer
from schema.enums import OrderDirection
from schema.filters import CustomerWhere
from schema.permissions import Has, gate
from schema.planner import roots as planner
from schema.relay import Connection, connection, page_args, pk_of
from schema.scalars import plain
from schema.selfservice.access import note_customer_reads


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description="Customers, filtered, searched and sorted; archived ones are left "
        "out unless `where` mentions `archived`. With `search` and no `orderBy`, the "
        "best matches come first.",
        extensions=gate(Has(Permission.CUSTOMERS_READ)),
    )
    async def customers(
        self,
        info: Info,
        where: CustomerWhere | None = None,
        order_by: CustomerOrder | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words to find in names, email and company (prefixes "
                "and small typos match)."
            ),
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Customer]:
        session = info.context.session
        page = page_args(first, after, last, before)
        planned = await planner.customers(
            info, page=page, where=where, order_by=order_by, search=search
        )
        if planned is not None:
            return planned  # type: ignore[return-value]
        listed = await service.list_customers(
            session,
            info.context.actor,
            page=page,
            where=plain(where) if where is not None else None,
            search=search,
            order=DomainOrderField(order_by.field) if order_by else None,
            descending=bool(order_by and order_by.direction is OrderDirection.DESC),
        )
        note_customer_reads(info, (c.id for c in listed.page.items))
        return connection(
            listed.page,
            Customer.from_model,
            lambda: count(session, listed.count_statement),
        )

    @strawberry.field(
        description="One customer by ID (archived and merged ones included).",
        extensions=gate(Has(Permission.CUSTOMERS_READ)),
    )
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        pk = pk_of(id, "Customer")
        planned = await planner.customer(info, pk)
        if planned is not None:
            return planned  # type: ignore[return-value]
        model = await service.get_customer(info.context.session, info.context.actor, pk)
        note_customer_reads(info, (model.id,))
        return Customer.from_model(model)

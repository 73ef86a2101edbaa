"""Root query fields for customer data exports."""

from __future__ import annotations

import strawberry

from crm.exports import service
from crm.pagination import count
from crm.permissions import Permission
from schema.context import Info
from schema.exports.types import DataExport, DataExportConnection
from schema.permissions import Has, gate
from schema.relay import Connection, connection, page_args, pk_of


@strawberry.type
class ExportQueries:
    @strawberry.field(
        description="One customer's data export requests, newest first, with "
        "download links while their files are READY. Needs every read right the "
        "export spans (customers, interactions, consents, segments, insights, "
        "audit).",
        extensions=gate(Has(Permission.CUSTOMERS_READ)),
        graphql_type=DataExportConnection,
    )
    async def customer_data_exports(
        self,
        info: Info,
        customer_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[DataExport]:
        session = info.context.session
        page, stmt = await service.customer_exports(
            session,
            info.context.actor,
            pk_of(customer_id, "Customer", field="customerId"),
            page=page_args(first, after, last, before),
        )
        return connection(page, DataExport.from_model, lambda: count(session, stmt))

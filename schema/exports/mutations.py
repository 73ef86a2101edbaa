"""Mutations for customer data exports."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from crm.exports import service
from crm.exports.models import ExportFormat
from crm.permissions import Permission
from schema.context import Info
from schema.errors import UserError, attempt
from schema.exports.types import DataExport, MyDataExport
from schema.me.permissions import IsCustomer
from schema.permissions import Has, gate
from schema.relay import pk_of

JSON_DESCRIPTION = (
    "The export's JSON document itself, when the format is JSON and the file is "
    "at most 256 KiB; otherwise null (use the export's download link)."
)
ERRORS_DESCRIPTION = (
    "RATE_LIMITED: too many exports today (5 a day for a customer). REQUIRED, "
    "TOO_LONG or INVALID for a bad field."
)


@strawberry.input(description="Which kind of file you want.")
class MyDataExportInput:
    format: ExportFormat = strawberry.field(
        description="JSON (one document) or CSV_ZIP (spreadsheets, for people)."
    )


@strawberry.type(description="The result of myDataExport.")
class MyDataExportPayload:
    export: MyDataExport | None = strawberry.field(
        default=None,
        description="The export: READY at once when small, else PENDING (watch "
        "me.dataExports for it).",
    )
    json: JSON | None = strawberry.field(default=None, description=JSON_DESCRIPTION)
    errors: list[UserError] = strawberry.field(
        default_factory=list, description=ERRORS_DESCRIPTION
    )


@strawberry.input(description="A customer's data export request taken by staff.")
class CustomerDataExportInput:
    customer_id: strawberry.ID = strawberry.field(
        description="The customer whose data to export."
    )
    format: ExportFormat = strawberry.field(
        description="JSON (one document) or CSV_ZIP (spreadsheets, for people)."
    )
    reason: str = strawberry.field(
        description="How the customer asked (e.g. by phone on 3 May), up to 500 "
        "characters; audited."
    )


@strawberry.type(description="The result of customerDataExport.")
class CustomerDataExportPayload:
    export: DataExport | None = strawberry.field(
        default=None,
        description="The export: READY at once when small, else PENDING.",
    )
    json: JSON | None = strawberry.field(default=None, description=JSON_DESCRIPTION)
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="REQUIRED, TOO_LONG or INVALID."
    )


@strawberry.type
class ExportMutations:
    @strawberry.mutation(
        description="Get a copy of everything the firm holds about you that it "
        "discloses to you: profile, shared interactions, consents with history, "
        "published insights, visible segments, corrections, access log. Small "
        "exports are ready at once; large ones are prepared in the background. "
        "At most 5 a day; asking again while one is queued returns that one.",
        extensions=gate(IsCustomer()),
    )
    async def my_data_export(
        self, info: Info, input: MyDataExportInput
    ) -> MyDataExportPayload:
        ctx = info.context
        return await attempt(
            ctx.session,
            lambda: service.request_my_export(ctx.session, ctx.actor, fmt=input.format),
            lambda requested: MyDataExportPayload(
                export=MyDataExport.from_model(requested.export),
                json=JSON(requested.document) if requested.document else None,
            ),
            MyDataExportPayload,
        )

    @strawberry.mutation(
        description="Export a customer's data for a request they made elsewhere "
        "(phone, post), with the reason; audited. Needs every read right the "
        "export spans (customers, interactions, consents, segments, insights, "
        "audit). The customer sees it in me.dataExports too.",
        extensions=gate(Has(Permission.CUSTOMERS_READ)),
    )
    async def customer_data_export(
        self, info: Info, input: CustomerDataExportInput
    ) -> CustomerDataExportPayload:
        ctx = info.context
        customer_id = pk_of(input.customer_id, "Customer", field="input.customerId")
        return await attempt(
            ctx.session,
            lambda: service.request_customer_export(
                ctx.session,
                ctx.actor,
                customer_id,
                fmt=input.format,
                reason=input.reason,
            ),
            lambda requested: CustomerDataExportPayload(
                export=DataExport.from_model(requested.export),
                json=JSON(requested.document) if requested.document else None,
            ),
            CustomerDataExportPayload,
        )

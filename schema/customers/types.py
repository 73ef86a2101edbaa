"""The customer as the firm sees it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from crm.audit import service as audit_service
from crm.customers import policies as customer_policies
from crm.customers.models import Customer as CustomerModel
from crm.interactions import service as interaction_service
from schema.audit import loaders as audit_loaders
from schema.audit.types import AuditEvent
from schema.consent.customer_fields import CustomerConsentFields
from schema.context import Info
from schema.enums import LifecycleStage
from schema.filters import InteractionWhere
from schema.insights.customer_fields import CustomerInsightFields
from schema.relay import (
    Connection,
    Node,
    connection,
    global_id,
    page_args,
    row_view,
)
from schema.scalars import plain
from schema.segments.customer_fields import CustomerSegmentFields
from schema.selfservice.customer_fields import CustomerSelfServiceFields
from schema.staff.types import StaffMember

if TYPE_CHECKING:
    from schema.interactions.types import Interaction, InteractionOrder

InteractionT = Annotated["Interaction", strawberry.lazy("schema.interactions.types")]
InteractionOrderT = Annotated[
    "InteractionOrder", strawberry.lazy("schema.interactions.types")
]


@strawberry.type(description="A customer of the firm, with contact data and history.")
class Customer(
    CustomerSegmentFields,
    CustomerInsightFields,
    CustomerConsentFields,
    CustomerSelfServiceFields,
    Node,
):
    external_ref: str | None = strawberry.field(
        description="The customer's ID in a partner's or upstream system (unique)."
    )
    email: str | None
    phone: str | None
    given_name: str | None
    family_name: str | None
    display_name: str = strawberry.field(
        description="Shown name; defaults to given + family name, company or email."
    )
    company: str | None
    locale: str | None = strawberry.field(
        description="BCP 47 language tag, e.g. en-GB."
    )
    time_zone: str | None = strawberry.field(description="IANA time zone.")
    lifecycle_stage: LifecycleStage
    tags: list[str]
    attributes: JSON = strawberry.field(description="Custom attributes (JSON object).")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = strawberry.field(
        description="When the customer was archived (soft-deleted), if they were."
    )
    version: int = strawberry.field(
        description="Increments on every change; pass it as expectedVersion to update."
    )
    archived: bool = strawberry.field(description="Whether the customer is archived.")
    model_: strawberry.Private[CustomerModel]

    @strawberry.field(
        description="The staff member who owns the relationship (null without the "
        "right to read staff)."
    )
    async def owner(self, info: Info) -> StaffMember | None:
        if self.model_.owner_id is None or not customer_policies.can_see_owner(
            info.context.actor
        ):
            return None
        member = await info.context.loaders.staff.load(self.model_.owner_id)
        return StaffMember.from_model(member) if member is not None else None

    @strawberry.field(description="The customer this record was merged into, if any.")
    async def merged_into(self, info: Info) -> Customer | None:
        if self.model_.merged_into_id is None:
            return None
        target = await info.context.loaders.customers.load(self.model_.merged_into_id)
        return Customer.from_model(target) if target is not None else None

    @strawberry.field(
        description="The customer's interactions, newest first by default."
    )
    async def interactions(
        self,
        info: Info,
        where: InteractionWhere | None = None,
        order_by: InteractionOrderT | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[InteractionT]:
        from schema.interactions.types import Interaction, interaction_order_args

        page = page_args(first, after, last, before)
        where_doc = plain(where) if where is not None else None
        order, descending = interaction_order_args(order_by)
        loaders = info.context.loaders
        assert self.model_.id is not None
        customer_id = self.model_.id

        async def total() -> int:
            return await loaders.interaction_counts(where_doc).load(customer_id)

        if page.after is None and page.before is None and page.last is None:
            loader = loaders.interaction_pages(page.size, where_doc, order, descending)
            result = await loader.load(customer_id)
            return connection(result, Interaction.from_model, total)
        listed = await interaction_service.list_interactions(
            info.context.session,
            info.context.actor,
            page=page,
            where=where_doc,
            order=order,
            descending=descending,
            customer_id=customer_id,
        )
        return connection(listed.page, Interaction.from_model, total)

    @strawberry.field(
        description="Every recorded change to this customer, newest first."
    )
    async def audit_trail(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEvent]:
        assert self.model_.id is not None
        customer_id = self.model_.id
        actor = info.context.actor
        page = page_args(first, after, None, None)

        async def total() -> int:
            return await audit_loaders.counts(info, "Customer").load(customer_id)

        if page.after is None:
            loader = audit_loaders.first_pages(info, "Customer", page.size)
            result = await loader.load(customer_id)
        else:
            result = await audit_service.trail(
                info.context.session,
                actor,
                entity_type="Customer",
                entity_id=customer_id,
                page=page,
            )
        return connection(
            result, lambda event: AuditEvent.from_model(event, actor), total
        )

    @classmethod
    def from_model(cls, model: CustomerModel) -> Customer:
        return _customer_of_row(model)


_customer_of_row = row_view(
    Customer,
    columns=(
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
        "created_at",
        "updated_at",
        "archived_at",
        "version",
    ),
    computed={
        "id": lambda model: global_id("Customer", model.id),
        "tags": lambda model: list(model.tags or []),
        "attributes": lambda model: dict(model.attributes or {}),
        "archived": lambda model: model.archived_at is not None,
    },
)

"""Fields of the firm's Customer type for consent, contact preferences and feedback."""

from __future__ import annotations

import strawberry

from crm.consent import service
from crm.customers.models import Customer as CustomerModel
from crm.permissions import Permission
from schema.consent import loaders
from schema.consent.types import Consent, ConsentEvent, ContactPreferences
from schema.context import Info
from schema.relay import Connection, connection, page_args


@strawberry.type
class CustomerConsentFields:
    model_: strawberry.Private[CustomerModel]

    @strawberry.field(
        description="The consent that applies now to each purpose and channel, "
        "defaults marked (null without the right to read consents)."
    )
    async def consents(self, info: Info) -> list[Consent] | None:
        if not info.context.actor.can(Permission.CONSENTS_READ):
            return None
        assert self.model_.id is not None
        statuses = await loaders.consents(info).load(self.model_.id)
        return [Consent.of(s) for s in statuses]

    @strawberry.field(
        description="Every consent decision recorded for the customer, newest first "
        "(null without the right to read consents)."
    )
    async def consent_history(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ConsentEvent] | None:
        ctx = info.context
        if not ctx.actor.can(Permission.CONSENTS_READ):
            return None
        assert self.model_.id is not None
        customer_id = self.model_.id
        page = page_args(first, after, None, None)

        async def total() -> int:
            return await loaders.history_counts(info).load(customer_id)

        if page.after is None:
            result = await loaders.history_pages(info, page.size).load(customer_id)
        else:
            listed = await service.history(
                ctx.session, ctx.actor, customer_id, page=page
            )
            result = listed.page
        return connection(result, ConsentEvent.from_model, total)

    @strawberry.field(
        description="How the customer likes to be contacted: respect it downstream."
    )
    async def preferences(self, info: Info) -> ContactPreferences:
        assert self.model_.id is not None
        row = await loaders.contact_preferences(info).load(self.model_.id)
        return ContactPreferences.of(row)

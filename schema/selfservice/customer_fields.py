"""Fields of the firm's Customer type for corrections, erasure and the access log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.access import service as access
from crm.corrections import service as corrections
from crm.customers.models import Customer as CustomerModel
from crm.permissions import Permission
from schema.context import Info
from schema.relay import Connection, connection, page_args
from schema.scalars import plain
from schema.selfservice import loaders
from schema.selfservice.inputs import CorrectionWhere
from schema.selfservice.types import AccessLogEntry, Correction


@strawberry.type
class CustomerSelfServiceFields:
    model_: strawberry.Private[CustomerModel]

    @strawberry.field(
        description="When the customer's personal data was erased (the record is "
        "then an anonymous shell)."
    )
    def erased_at(self) -> datetime | None:
        return self.model_.erased_at

    @strawberry.field(
        description="The customer's profile corrections, newest first (needs "
        "corrections:review; null without it)."
    )
    async def corrections(
        self,
        info: Info,
        where: CorrectionWhere | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Correction] | None:
        ctx = info.context
        if not ctx.actor.can(Permission.CORRECTIONS_REVIEW):
            return None
        assert self.model_.id is not None
        customer_id = self.model_.id
        page = page_args(first, after, None, None)
        where_doc = plain(where) if where is not None else None

        async def total() -> int:
            return await loaders.correction_counts(info, where_doc).load(customer_id)

        if page.after is None:
            loader = loaders.correction_pages(info, page.size, where_doc)
            result = await loader.load(customer_id)
        else:
            listed = await corrections.list_corrections(
                ctx.session,
                ctx.actor,
                page=page,
                where=where_doc,
                customer_id=customer_id,
            )
            result = listed.page
        return connection(result, Correction.from_model, total)

    @strawberry.field(
        description="Who at the firm read or changed this customer, newest first "
        "(needs audit:read; null without it): what the customer sees as me.accessLog."
    )
    async def access_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AccessLogEntry] | None:
        ctx = info.context
        if not ctx.actor.can(Permission.AUDIT_READ):
            return None
        assert self.model_.id is not None
        customer_id = self.model_.id
        page = page_args(first, after, None, None)

        async def total() -> int:
            return await loaders.access_counts(info).load(customer_id)

        if page.after is None:
            result = await loaders.access_pages(info, page.size).load(customer_id)
        else:
            log = await access.customer_access_log(
                ctx.session, ctx.actor, customer_id, page=page
            )
            result = log.page
        return connection(result, AccessLogEntry.of, total)

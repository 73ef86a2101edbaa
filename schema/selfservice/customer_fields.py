"""Fields of the firm's Customer type for corrections, erasure and the access log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.access import service as access
from crm.corrections import service as corrections
from crm.customers.models import Customer as CustomerModel
from crm.pagination import count
from crm.permissions import Permission
from schema.context import Info
from schema.relay import Connection, connection, page_args
from schema.scalars import plain
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
        if not info.context.actor.can(Permission.CORRECTIONS_REVIEW):
            return None
        session = info.context.session
        listed = await corrections.list_corrections(
            session,
            info.context.actor,
            page=page_args(first, after, None, None),
            where=plain(where) if where is not None else None,
            customer_id=self.model_.id,
        )
        return connection(
            listed.page,
            Correction.from_model,
            lambda: count(session, listed.count_statement),
        )

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
        if not info.context.actor.can(Permission.AUDIT_READ):
            return None
        assert self.model_.id is not None
        session = info.context.session
        log = await access.customer_access_log(
            session,
            info.context.actor,
            self.model_.id,
            page=page_args(first, after, None, None),
        )
        return connection(
            log.page, AccessLogEntry.of, lambda: count(session, log.count_statement)
        )

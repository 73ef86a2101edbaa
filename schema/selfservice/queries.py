"""Root query fields for corrections and erasure requests."""

from __future__ import annotations

import strawberry

from crm.corrections import service as corrections
from crm.erasure import service as erasure
from crm.pagination import count
from crm.permissions import Permission
from schema.context import Info
from schema.permissions import Has, gate
from schema.relay import Connection, connection, page_args
from schema.scalars import plain
from schema.selfservice.inputs import CorrectionWhere, ErasureRequestWhere
from schema.selfservice.types import Correction, ErasureRequest


@strawberry.type
class SelfServiceQueries:
    @strawberry.field(
        description="Customers' profile corrections, newest first; "
        "`where: {status: {eq: PENDING}}` is the review queue.",
        extensions=gate(Has(Permission.CORRECTIONS_REVIEW)),
    )
    async def corrections(
        self,
        info: Info,
        where: CorrectionWhere | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Correction]:
        session = info.context.session
        listed = await corrections.list_corrections(
            session,
            info.context.actor,
            page=page_args(first, after, last, before),
            where=plain(where) if where is not None else None,
        )
        return connection(
            listed.page,
            Correction.from_model,
            lambda: count(session, listed.count_statement),
        )

    @strawberry.field(
        description="Erasure requests, newest first.",
        extensions=gate(Has(Permission.ERASURE_MANAGE)),
    )
    async def erasure_requests(
        self,
        info: Info,
        where: ErasureRequestWhere | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ErasureRequest]:
        session = info.context.session
        listed = await erasure.list_requests(
            session,
            info.context.actor,
            page=page_args(first, after, last, before),
            where=plain(where) if where is not None else None,
        )
        return connection(
            listed.page,
            ErasureRequest.from_model,
            lambda: count(session, listed.count_statement),
        )

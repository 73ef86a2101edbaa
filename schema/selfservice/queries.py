"""Root query fields for corrections and erasure requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from crm.corrections import service as corrections
from crm.erasure import service as erasure
from crm.pagination import PageRequest, count
from crm.permissions import Permission
from schema.context import Info
from schema.permissions import Has, gate
from schema.relay import Connection, NodeT, connection, page_args
from schema.scalars import plain
from schema.selfservice.inputs import CorrectionWhere, ErasureRequestWhere
from schema.selfservice.types import Correction, ErasureRequest


async def filtered(
    info: Info,
    lister: Callable[..., Awaitable[Any]],
    wrap: Callable[[Any], NodeT],
    where: object | None,
    page: PageRequest,
) -> Connection[NodeT]:
    """One page of the caller's `lister` results matching `where`, as a connection."""
    session = info.context.session
    listed = await lister(
        session,
        info.context.actor,
        page=page,
        where=plain(where) if where is not None else None,
    )
    return connection(listed.page, wrap, lambda: count(session, listed.count_statement))


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
        return await filtered(
            info,
            corrections.list_corrections,
            Correction.from_model,
            where,
            page_args(first, after, last, before),
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
        return await filtered(
            info,
            erasure.list_requests,
            ErasureRequest.from_model,
            where,
            page_args(first, after, last, before),
        )

"""Root query fields for segments: dynamic and static customer groups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm.pagination import count
from crm.permissions import Permission
from crm.segments import reads, service
from crm.segments.filters import SegmentOrderField
from schema.context import Info
from schema.enums import OrderDirection
from schema.permissions import Has, gate
from schema.planner import roots as planner
from schema.relay import Connection, connection, page_args, pk_of
from schema.scalars import plain
from schema.segments.inputs import SegmentRule, SegmentWhere
from schema.segments.types import Segment, SegmentOrder

if TYPE_CHECKING:
    from schema.customers.types import Customer

CustomerT = Annotated["Customer", strawberry.lazy("schema.customers.types")]


@strawberry.type(description="Who a rule selects now; nothing is saved.")
class SegmentPreview:
    customers: Connection[CustomerT] = strawberry.field(
        description="The first matching customers, by ID."
    )
    count_: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many customers the rule selects now.")
    async def count(self) -> int:
        return await self.count_()


@strawberry.type
class SegmentQueries:
    @strawberry.field(
        description="Segments, filtered and sorted (by name unless told).",
        extensions=gate(Has(Permission.SEGMENTS_READ)),
    )
    async def segments(
        self,
        info: Info,
        where: SegmentWhere | None = None,
        order_by: SegmentOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Segment]:
        session = info.context.session
        page = page_args(first, after, last, before)
        planned = await planner.segments(
            info, page=page, where=where, order_by=order_by
        )
        if planned is not None:
            return planned  # type: ignore[return-value]
        listed = await service.list_segments(
            session,
            info.context.actor,
            page=page,
            where=plain(where) if where is not None else None,
            order=SegmentOrderField(order_by.field) if order_by else None,
            descending=bool(order_by and order_by.direction is OrderDirection.DESC),
        )
        return connection(
            listed.page,
            Segment.from_model,
            lambda: count(session, listed.count_statement),
        )

    @strawberry.field(
        description="One segment by ID.",
        extensions=gate(Has(Permission.SEGMENTS_READ)),
    )
    async def segment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Its ID.")],
    ) -> Segment | None:
        pk = pk_of(id, "Segment")
        planned = await planner.segment(info, pk)
        if planned is not None:
            return planned  # type: ignore[return-value]
        model = await service.get_segment(info.context.session, info.context.actor, pk)
        return Segment.from_model(model)

    @strawberry.field(
        description="Try a rule: how many customers it selects now and the first "
        "of them, without saving anything. A rule that cannot compile is a "
        "BAD_USER_INPUT error naming the offending part (extensions.field).",
        extensions=gate(Has(Permission.SEGMENTS_READ)),
    )
    async def segment_preview(
        self,
        info: Info,
        rule: Annotated[
            SegmentRule, strawberry.argument(description="The rule to try.")
        ],
        first: Annotated[
            int | None,
            strawberry.argument(description="How many customers to list (<= 100)."),
        ] = None,
    ) -> SegmentPreview:
        from schema.customers.types import Customer

        session = info.context.session
        listed = await reads.preview(
            session,
            info.context.actor,
            plain(rule),
            page=page_args(first, None, None, None),
        )
        return SegmentPreview(
            customers=connection(
                listed.page,
                Customer.from_model,
                lambda: count(session, listed.count_statement),
            ),
            count_=lambda: count(session, listed.count_statement),
        )

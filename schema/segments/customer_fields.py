"""Fields of the firm's Customer type for segments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from crm.actors import Actor
from crm.permissions import Permission
from crm.segments import reads
from crm.segments.models import Segment as SegmentModel
from schema.context import Info
from schema.segments.types import CustomerSegment, Segment

if TYPE_CHECKING:
    from crm.customers.models import Customer as CustomerModel

Memberships = list[tuple[SegmentModel, datetime]]


async def _segments_by_customer(
    session: AsyncSession, actor: Actor, ids: Sequence[int]
) -> list[Memberships]:
    found = await reads.segments_of_customers(session, actor, ids)
    return [found[i] for i in ids]


def segments_loader(info: Info) -> DataLoader[int, Memberships]:
    """The current segments of many customers, in one statement per operation."""
    ctx = info.context
    return ctx.memo(
        "segments.by_customer",
        lambda: DataLoader(partial(_segments_by_customer, ctx.session, ctx.actor)),
    )


@strawberry.type
class CustomerSegmentFields:
    model_: strawberry.Private[Any]

    @strawberry.field(
        description="The segments the customer is in now, with when they joined "
        "(null without the right to read segments)."
    )
    async def segments(self, info: Info) -> list[CustomerSegment] | None:
        if not info.context.actor.can(Permission.SEGMENTS_READ):
            return None
        model: CustomerModel = self.model_
        assert model.id is not None
        found = await segments_loader(info).load(model.id)
        return [
            CustomerSegment(segment=Segment.from_model(segment), joined_at=joined)
            for segment, joined in found
        ]

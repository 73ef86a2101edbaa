"""The customer's own view (`me`) of segments: dynamic and static customer groups."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.segments import reads
from schema.context import Info


@strawberry.type(
    description="A group the firm places you in and shows you (e.g. a loyalty tier)."
)
class MySegment:
    name: str = strawberry.field(description="Its name, as the firm shows it to you.")
    description: str | None = strawberry.field(description="What it means for you.")
    joined_at: datetime = strawberry.field(description="When you joined it.")


@strawberry.type
class MeSegments:
    @strawberry.field(
        description="The groups you are in that the firm shows you, oldest first."
    )
    async def segments(self, info: Info) -> list[MySegment]:
        ctx = info.context
        found = await reads.my_segments(ctx.session, ctx.actor)
        return [
            MySegment(
                name=segment.customer_name or "",
                description=segment.customer_description,
                joined_at=joined,
            )
            for segment, joined in found
        ]

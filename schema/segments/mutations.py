"""Mutations for segments: dynamic and static customer groups."""

from __future__ import annotations

import strawberry

from crm.permissions import Permission
from crm.segments import membership, service
from schema.context import Info
from schema.errors import UserError, attempt, in_savepoint
from schema.permissions import Has, gate
from schema.relay import global_id, pk_of
from schema.scalars import given, plain, provided
from schema.segments.inputs import (
    SegmentCreateInput,
    SegmentIdInput,
    SegmentMembersInput,
    SegmentUpdateInput,
)
from schema.segments.types import Segment


@strawberry.type(description="The result of a segment mutation.")
class SegmentPayload:
    segment: Segment | None = strawberry.field(
        default=None, description="The segment, as saved (null on errors)."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of segmentDelete.")
class SegmentDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The ID of the deleted segment."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of a change of members.")
class SegmentMembershipPayload:
    segment: Segment | None = strawberry.field(
        default=None, description="The segment, with its new size (null on errors)."
    )
    entered: int = strawberry.field(default=0, description="Customers who entered.")
    left: int = strawberry.field(default=0, description="Customers who left.")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


def _membership_payload(
    change: membership.MembershipChange,
) -> SegmentMembershipPayload:
    return SegmentMembershipPayload(
        segment=Segment.from_model(change.segment),
        entered=change.entered,
        left=change.left,
    )


async def _members(
    info: Info, input: SegmentMembersInput, *, add: bool
) -> SegmentMembershipPayload:
    ctx = info.context
    segment_id = pk_of(input.segment_id, "Segment", field="input.segmentId")
    ids = given(input.customer_ids)
    customer_ids = (
        [
            pk_of(value, "Customer", field=f"input.customerIds[{i}]")
            for i, value in enumerate(ids)
        ]
        if ids is not None
        else None
    )
    where = given(input.where)
    return await attempt(
        ctx.session,
        lambda: membership.change_static_members(
            ctx.session,
            ctx.actor,
            segment_id,
            add=add,
            customer_ids=customer_ids,
            where=plain(where) if where is not None else None,
        ),
        _membership_payload,
        SegmentMembershipPayload,
    )


@strawberry.type
class SegmentMutations:
    @strawberry.mutation(
        description="Create a segment (dynamic: members appear at its first refresh).",
        extensions=gate(Has(Permission.SEGMENTS_MANAGE)),
    )
    async def segment_create(
        self, info: Info, input: SegmentCreateInput
    ) -> SegmentPayload:
        ctx = info.context
        data = provided(input)
        return await attempt(
            ctx.session,
            lambda: service.create_segment(ctx.session, ctx.actor, data),
            lambda created: SegmentPayload(segment=Segment.from_model(created)),
            SegmentPayload,
        )

    @strawberry.mutation(
        description="Change a segment's name, rule or visibility (null clears).",
        extensions=gate(Has(Permission.SEGMENTS_MANAGE)),
    )
    async def segment_update(
        self, info: Info, input: SegmentUpdateInput
    ) -> SegmentPayload:
        ctx = info.context
        segment_id = pk_of(input.id, "Segment", field="input.id")
        expected = given(input.expected_version)
        data = provided(input, exclude=("id", "expected_version"))
        return await attempt(
            ctx.session,
            lambda: service.update_segment(
                ctx.session,
                ctx.actor,
                segment_id,
                data,
                expected_version=expected,
            ),
            lambda updated: SegmentPayload(segment=Segment.from_model(updated)),
            SegmentPayload,
        )

    @strawberry.mutation(
        description="Delete a segment and its membership history (audited).",
        extensions=gate(Has(Permission.SEGMENTS_MANAGE)),
    )
    async def segment_delete(
        self, info: Info, input: SegmentIdInput
    ) -> SegmentDeletePayload:
        ctx = info.context
        segment_id = pk_of(input.id, "Segment", field="input.id")
        deleted = await in_savepoint(
            ctx.session,
            lambda: service.delete_segment(ctx.session, ctx.actor, segment_id),
        )
        return SegmentDeletePayload(deleted_id=global_id("Segment", deleted))

    @strawberry.mutation(
        description="Recompute a dynamic segment's members now: who entered and "
        "who left is recorded in its history and announced as events.",
        extensions=gate(Has(Permission.SEGMENTS_MANAGE)),
    )
    async def segment_refresh(
        self, info: Info, input: SegmentIdInput
    ) -> SegmentMembershipPayload:
        ctx = info.context
        segment_id = pk_of(input.id, "Segment", field="input.id")
        return await attempt(
            ctx.session,
            lambda: membership.refresh_segment(ctx.session, ctx.actor, segment_id),
            _membership_payload,
            SegmentMembershipPayload,
        )

    @strawberry.mutation(
        description="Add customers to a static segment (those already in stay).",
        extensions=gate(Has(Permission.SEGMENTS_MANAGE)),
    )
    async def segment_members_add(
        self, info: Info, input: SegmentMembersInput
    ) -> SegmentMembershipPayload:
        return await _members(info, input, add=True)

    @strawberry.mutation(
        description="Remove customers from a static segment.",
        extensions=gate(Has(Permission.SEGMENTS_MANAGE)),
    )
    async def segment_members_remove(
        self, info: Info, input: SegmentMembersInput
    ) -> SegmentMembershipPayload:
        return await _members(info, input, add=False)

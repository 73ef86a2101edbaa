"""Interaction mutations."""

from __future__ import annotations

import strawberry

from crm.errors import ValidationFailed
from crm.interactions import service
from crm.permissions import Permission
from schema.context import Info
from schema.errors import UserError, attempt, in_savepoint, user_errors
from schema.interactions.inputs import (
    InteractionIdInput,
    InteractionLogInput,
    InteractionUpdateInput,
)
from schema.interactions.types import Interaction
from schema.permissions import Has, gate
from schema.relay import global_id, pk_of
from schema.scalars import given, provided


@strawberry.type(description="The result of interactionLog.")
class InteractionLogPayload:
    interaction: Interaction | None = None
    created: bool = strawberry.field(
        default=False,
        description="False when the externalRef was logged before (nothing new "
        "written).",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of an interaction mutation.")
class InteractionPayload:
    interaction: Interaction | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of interactionDelete.")
class InteractionDeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InteractionMutations:
    @strawberry.mutation(
        description="Record a touchpoint with a customer.",
        extensions=gate(Has(Permission.INTERACTIONS_WRITE)),
    )
    async def interaction_log(
        self, info: Info, input: InteractionLogInput
    ) -> InteractionLogPayload:
        ctx = info.context
        customer_id = pk_of(input.customer_id, "Customer", field="input.customerId")
        data = provided(input, exclude=("customer_id",))
        # No savepoint: log_interaction refuses before it writes anything.
        try:
            result = await service.log_interaction(
                ctx.session, ctx.actor, customer_id, data
            )
        except ValidationFailed as exc:
            return InteractionLogPayload(errors=user_errors(exc))
        return InteractionLogPayload(
            interaction=Interaction.from_model(result.interaction),
            created=result.created,
        )

    @strawberry.mutation(
        description="Correct an interaction (null clears a field).",
        extensions=gate(Has(Permission.INTERACTIONS_WRITE)),
    )
    async def interaction_update(
        self, info: Info, input: InteractionUpdateInput
    ) -> InteractionPayload:
        ctx = info.context
        interaction_id = pk_of(input.id, "Interaction", field="input.id")
        # 0 is a (stale) version too: only an omitted or null one skips the check.
        expected = given(input.expected_version)
        data = provided(input, exclude=("id", "expected_version"))
        return await attempt(
            ctx.session,
            lambda: service.update_interaction(
                ctx.session,
                ctx.actor,
                interaction_id,
                data,
                expected_version=expected,
            ),
            lambda updated: InteractionPayload(
                interaction=Interaction.from_model(updated)
            ),
            InteractionPayload,
        )

    @strawberry.mutation(
        description="Delete an interaction; the audit trail keeps what it held.",
        extensions=gate(Has(Permission.INTERACTIONS_DELETE)),
    )
    async def interaction_delete(
        self, info: Info, input: InteractionIdInput
    ) -> InteractionDeletePayload:
        ctx = info.context
        interaction_id = pk_of(input.id, "Interaction", field="input.id")
        deleted = await in_savepoint(
            ctx.session,
            lambda: service.delete_interaction(ctx.session, ctx.actor, interaction_id),
        )
        return InteractionDeletePayload(deleted_id=global_id("Interaction", deleted))
